/**
 * sophia-cli: parses flags and calls the task system. Errors become one line on stderr (or a JSON
 * object with --json) and an exit code from exit_codes.ts.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../config.js";
import { asError, isSophiaError } from "../errors.js";
import { eventsCommand } from "./events_command.js";
import { EXIT, exitCodeFor } from "./exit_codes.js";
import { runCommand } from "./run_command.js";
import { checkCommand, refineCommand } from "./subtitle_commands.js";
import { cancelCommand, listCommand, retryCommand, showCommand, submitCommand } from "./task_commands.js";

function program(): Command {
  const root = new Command("sophia-cli")
    .description("Sophia's task runner: task files in workspace/tasks, subtitles out, events in workspace/events")
    .version(VERSION)
    .option("--workspace <dir>", "the workspace folder (default: $SOPHIA_WORKSPACE or ./workspace)")
    .option("--json", "print data and errors as JSON")
    .showHelpAfterError()
    .exitOverride();
  for (const command of [runCommand(), submitCommand(), listCommand(), showCommand(), cancelCommand(), retryCommand(), eventsCommand(), checkCommand(), refineCommand()]) {
    root.addCommand(command.exitOverride());
  }
  return root;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // Help and version are "errors" to commander; a real usage error has already been printed.
      return thrown.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const error = asError(thrown);
    const code = isSophiaError(error) ? error.code : "internal";
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message: error.message, ...(isSophiaError(error) ? { details: error.details } : {}) } })}\n`);
    process.stderr.write(`sophia-cli: ${error.message}\n`);
    if (!isSophiaError(error)) process.stderr.write(`${error.stack ?? ""}\n`);
    return isSophiaError(error) ? exitCodeFor(error.code) : EXIT.failed;
  }
}
