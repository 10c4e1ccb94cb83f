/** `models`: what the engine can use here, with size, languages and where each was found. */
import { Command } from "commander";
import type { ModelInfo } from "../interfaces.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";

const WHERE: Record<ModelInfo["source"], string> = {
  path: "directory",
  models_dir: "workspace/models",
  bundled: "bundled",
  hf_cache: "Hugging Face cache",
  download: "to download",
};

export function modelsCommand(): Command {
  return new Command("models")
    .description("the faster_whisper models available here: size, languages, where each was found")
    .action(async (_options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const models = await workspace.models();
      if (json) printJson(models);
      else process.stdout.write(modelsTable(models));
    });
}

function modelsTable(models: readonly ModelInfo[]): string {
  if (models.length === 0) return "no models found: run ./scripts/setup, or put a CTranslate2 Whisper model in workspace/models/<name>\n";
  const rows = models.map((model) => [model.name, size(model.size_bytes), languages(model.multilingual), WHERE[model.source], model.path ?? ""]);
  const table = [["MODEL", "SIZE", "LANGUAGES", "FOUND IN", "PATH"], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  "));
  return `${lines.join("\n")}\nA task without a model gets tiny.en when its language is "en", and base otherwise.\n`;
}

function size(bytes: number | null): string {
  return bytes === null ? "?" : `${Math.round(bytes / 1e6)} MB`;
}

function languages(multilingual: boolean | null): string {
  return multilingual === null ? "?" : multilingual ? "multilingual" : "English only";
}
