/**
 * Writes the published JSON Schemas from the zod source of truth (core/app/task/schema.ts):
 * schemas/task.schema.json, schemas/event.schema.json, schemas/refine.schema.json,
 * schemas/engine.schema.json and schemas/subtitles.schema.json (the JSON subtitle format), for the
 * desktop app to validate against.
 * `--check` compares instead of writing (the test suite uses it to catch a stale copy).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { PACKAGE_DIR } from "../core/app/config.js";
import { FasterWhisperConfigSchema } from "../core/app/engines/faster_whisper/options.js";
import { RefineConfigSchema } from "../core/app/refine/rules.js";
import { SubtitleDocumentSchema } from "../core/app/subtitles/index.js";
import { EventSchema, TaskSchema } from "../core/app/task/model/schema.js";

export function generatedSchemas(): Record<string, string> {
  const render = (schema: z.ZodType, id: string, title: string) =>
    `${JSON.stringify({ $id: id, title, ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) }, null, 2)}\n`;
  return {
    "task.schema.json": render(TaskSchema, "https://sophia.local/schemas/task.schema.json", "Sophia task file (workspace/tasks/*.task.json)"),
    "event.schema.json": render(EventSchema, "https://sophia.local/schemas/event.schema.json", "Sophia event (one line of workspace/events/*_events.jsonl)"),
    "refine.schema.json": render(RefineConfigSchema, "https://sophia.local/schemas/refine.schema.json", "Sophia refine options (config_snapshot.refine of a task file)"),
    "engine.schema.json": render(FasterWhisperConfigSchema, "https://sophia.local/schemas/engine.schema.json", "Sophia engine options (config_snapshot.engine of a task file)"),
    "subtitles.schema.json": render(SubtitleDocumentSchema, "https://sophia.local/schemas/subtitles.schema.json", "Sophia subtitles as JSON (output.formats \"json\"): cues with their words and word times"),
  };
}

function main(): void {
  const dir = path.join(PACKAGE_DIR, "schemas");
  const check = process.argv.includes("--check");
  let stale = false;
  if (!check) mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(generatedSchemas())) {
    const file = path.join(dir, name);
    if (!check) writeFileSync(file, text);
    else if (readFileSync(file, "utf8") !== text) {
      process.stderr.write(`${file} is out of date: run npm run build\n`);
      stale = true;
    }
  }
  process.exitCode = stale ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
