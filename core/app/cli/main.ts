/**
 * sophia-cli: parses flags and calls the task system. Errors become one line on stderr (or a JSON
 * object with --json) and an exit code from exit_codes.ts.
 */
import { Command, CommanderError } from "commander";
import { VERSION, resolveSettings } from "../config.js";
import { Workspace, assertWorkspaceFolder, assertWorkspaceWritable } from "../task/model/workspace.js";
import type { GlobalOptions } from "./context.js";
import { asError, isSophiaError } from "../errors.js";
import { EXIT, exitCodeFor } from "./exit_codes.js";
import { writeFailure } from "../fs_errors.js";

/**
 * Each command's module, loaded only when that command runs: `list` then loads neither the engine,
 * the refine rules nor the runner (a cold start is most of what `list` costs). In help order.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  transcribe: async () => (await import("./transcribe_command.js")).transcribeCommand(),
  run: async () => (await import("./run_command.js")).runCommand(),
  submit: async () => (await import("./task_commands.js")).submitCommand(),
  list: async () => (await import("./task_commands.js")).listCommand(),
  status: async () => (await import("./status_command.js")).statusCommand(),
  show: async () => (await import("./task_commands.js")).showCommand(),
  cancel: async () => (await import("./task_commands.js")).cancelCommand(),
  retry: async () => (await import("./task_commands.js")).retryCommand(),
  wait: async () => (await import("./task_commands.js")).waitCommand(),
  remove: async () => (await import("./task_commands.js")).removeCommand(),
  clean: async () => (await import("./task_commands.js")).cleanCommand(),
  events: async () => (await import("./events_command.js")).eventsCommand(),
  models: async () => (await import("./models_command.js")).modelsCommand(),
  "setup-python": async () => (await import("./setup_python_command.js")).setupPythonCommand(),
  check: async () => (await import("./subtitle_commands.js")).checkCommand(),
  refine: async () => (await import("./subtitle_commands.js")).refineCommand(),
};

/** The command argv names, or null (help, a typo: every command is loaded, for the list or the suggestion). */
function commandNamed(argv: readonly string[]): string | null {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--workspace") i++;
    else if (!arg.startsWith("-")) return Object.hasOwn(COMMANDS, arg) ? arg : null;
  }
  return null;
}

async function program(argv: readonly string[]): Promise<Command> {
  const named = commandNamed(argv);
  const commands = await Promise.all((named === null ? Object.values(COMMANDS) : [COMMANDS[named] as () => Promise<Command>]).map((load) => load()));
  const root = new Command("sophia-cli")
    .description("Sophia's task runner: task files in workspace/tasks, subtitles out, events in workspace/events")
    .version(VERSION)
    .option("--workspace <dir>", "the workspace folder (default: $SOPHIA_WORKSPACE or ./workspace)")
    .option("--json", "print data and errors as JSON")
    .exitOverride()
    .configureOutput(ONE_LINE_ERRORS)
    .hook("preAction", (_root, command) => checkWorkspace(command));
  for (const command of commands) {
    root.addCommand(command.exitOverride().configureOutput(ONE_LINE_ERRORS));
  }
  return root;
}

/** Commands that need no workspace folder: check and refine work on the files given; models looks in workspace/models only if it is there; setup-python makes a venv. */
const WITHOUT_WORKSPACE = new Set(["check", "refine", "models", "setup-python"]);

/** Before any command touches it: the workspace is a folder, it exists (`submit` creates it), and a runner can write it. */
async function checkWorkspace(command: Command): Promise<void> {
  const name = command.name();
  if (WITHOUT_WORKSPACE.has(name)) return;
  const { workspace } = command.optsWithGlobals<GlobalOptions>();
  const resolved = new Workspace(resolveSettings({ workspace }).workspace);
  await assertWorkspaceFolder(resolved, { mayCreate: name === "submit" || name === "transcribe" });
  if (name === "run" || name === "transcribe") await assertWorkspaceWritable(resolved);
}

/** A typo gets one line with commander's suggestion, not the whole help. */
const ONE_LINE_ERRORS = {
  outputError: (message: string, write: (text: string) => void) =>
    write(`sophia-cli: ${message.replace(/^error: /, "").replace(/\n\(Did you mean (.+)\?\)/, " (did you mean $1?)").trimEnd()}; see sophia-cli --help\n`),
};

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  endQuietlyWhenTheReaderLeaves(process.stdout);
  try {
    await (await program(argv)).parseAsync(argv);
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

/**
 * `sophia-cli events | head -2`: once the reader has gone, writing is pointless and not a failure
 * (exit 1 would read as "task failed"), so the process ends at once with 0, as `cat` does.
 * Output that cannot be written (`list > /dev/full`, a full disk) ends it with one line saying so,
 * and the exit code of the write's failure (5 for a full disk), never a stack.
 */
function endQuietlyWhenTheReaderLeaves(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
    exitAsTheOutputFailed(error);
  });
}

function exitAsTheOutputFailed(thrown: unknown): never {
  const failure = writeFailure(thrown, "write the output");
  const message = isSophiaError(failure) ? failure.message : `cannot write the output: ${asError(thrown).message}`;
  process.stderr.write(`sophia-cli: ${message}\n`);
  process.exit(isSophiaError(failure) ? exitCodeFor(failure.code) : EXIT.failed);
}

