/** `sophia-cli run [--task <id> | --watch]`: a runner from the library, with progress on stderr and signals handled. */
import { Command, InvalidArgumentError } from "commander";
import { LIMITS } from "../config.js";
import { SophiaError } from "../errors.js";
import type { RunResult, Runner } from "../interfaces.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";
import { createProgressView, type ProgressView } from "./progress_view.js";

interface RunOptions {
  task?: string;
  watch?: boolean;
  concurrency?: number;
  rescanInterval?: number;
  keepTmp?: boolean;
  cluster?: string;
  progress: boolean;
}

export function runCommand(): Command {
  return new Command("run")
    .description("run queued tasks: all of them then exit (default), one (--task), or keep watching (--watch)")
    .option("--task <id>", "run this one task now")
    .option("--watch", "keep running: pick up new task files as they appear, until SIGINT/SIGTERM")
    .option("--concurrency <n>", `tasks run at once, 1 to ${LIMITS.concurrency} (default: 1)`, wholeNumberUpTo(LIMITS.concurrency))
    .option("--rescan-interval <sec>", `watch mode: seconds between safety-net rescans of the task folder, 1 to ${LIMITS.rescanIntervalSec} (default: 5)`, wholeNumberUpTo(LIMITS.rescanIntervalSec))
    .option("--cluster <address>", "run the speech work on a Ray cluster: host:port of its head, or auto (this machine must be a node of it; also SOPHIA_CLUSTER)")
    .option("--keep-tmp", "keep every task's outputs/_tmp/<task_id>/ for debugging (also SOPHIA_KEEP_TMP=1)")
    .option("--no-progress", "no progress bars or stage lines on stderr")
    .action(async (options: RunOptions, command: Command) => {
      // Thrown from an action, commander's own error class is neither printed nor told apart from help.
      if (options.task && options.watch) throw new SophiaError("usage", "--task and --watch cannot be combined: --task runs one task and exits, --watch keeps running");
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const view = createProgressView(options.progress);
      const runner = context.workspace.startRunner({
        task: options.task,
        watch: options.watch === true,
        concurrency: options.concurrency,
        rescanIntervalSec: options.rescanInterval,
        keepTmp: options.keepTmp ? true : undefined,
        cluster: options.cluster,
      });
      narrate(runner, view, context.workspace.dir);
      const interrupted = onSignals(view, () => void runner.stop());
      try {
        const results = await runner.done;
        if (context.json) printJson(results);
        else if (options.task !== undefined) printArtifacts(results);
        else if (!options.watch && results.length === 0) view.log("sophia-cli: no queued tasks");
        process.exitCode = exitCodeOf(results, options, interrupted());
      } finally {
        interrupted.dispose();
        view.stop();
      }
    });
}

export function narrate(runner: Runner, view: ProgressView, dir: string): void {
  runner
    .on("event", (event) => view.onEvent(event))
    .on("result", (result) => view.log(`sophia-cli: ${resultLine(result)}`))
    .on("rejected", (entry) => view.log(`sophia-cli: skipping ${entry.file}: ${entry.error.message}`))
    .on("conflict", (conflict) => view.log(`sophia-cli: not starting task ${conflict.taskId}: ${conflict.error.message}`))
    .on("recovered", (recovered) => view.log(`sophia-cli: recovered task ${recovered.taskId} from a dead runner: ${recovered.action}`))
    .on("scanFailed", (error) => view.log(`sophia-cli: ${error.message}`))
    .on("watching", () => view.log(`sophia-cli: watching ${dir}/tasks; Ctrl-C to stop`));
}

/** `run --task` ends with what it made: one path per line on stdout, for scripts. */
function printArtifacts(results: RunResult[]): void {
  for (const result of results) {
    for (const artifact of result.artifacts) process.stdout.write(`${artifact.path}\n`);
  }
}

/**
 * First SIGINT/SIGTERM: stop gracefully (hand running tasks back). A second: exit at once; the
 * task stays `running` and the next runner recovers it.
 */
export function onSignals(view: ProgressView, stop: () => void): (() => boolean) & { dispose(): void } {
  let received = false;
  const handler = () => {
    if (received) process.exit(EXIT.interrupted);
    received = true;
    view.log("sophia-cli: stopping; running tasks go back to the queue (signal again to exit at once)");
    stop();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return Object.assign(() => received, {
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  });
}

function resultLine(result: RunResult): string {
  switch (result.outcome) {
    case "failed":
      return `task ${result.taskId} failed: ${result.reason ?? ""}`;
    case "skipped":
    case "busy":
    case "crashed":
      return `task ${result.taskId} ${result.outcome}: ${result.reason ?? ""}`;
    case "unwritable":
      return `task ${result.taskId} not recorded: ${result.reason ?? ""}`;
    case "superseded":
      return `task ${result.taskId} superseded: another runner took it over while this one was stopped; left as it is`;
    case "handed_back":
      return `task ${result.taskId} handed back to the queue`;
    default:
      return `task ${result.taskId} ${result.outcome}`;
  }
}

function exitCodeOf(results: RunResult[], options: RunOptions, interrupted: boolean): number {
  if (options.watch) return EXIT.ok;
  if (options.task === undefined) {
    if (interrupted) return EXIT.interrupted;
    if (results.some((result) => result.outcome === "unwritable")) return EXIT.unwritable;
    return results.some((result) => result.outcome === "failed" || result.outcome === "crashed") ? EXIT.failed : EXIT.ok;
  }
  const [result] = results;
  switch (result?.outcome) {
    case "unwritable":
      return EXIT.unwritable;
    case "done":
      return EXIT.ok;
    case "canceled":
      return EXIT.canceled;
    case "handed_back":
      return EXIT.interrupted;
    case "failed":
    case "crashed":
      return EXIT.failed;
    case "skipped":
    case "busy":
    case "superseded":
      return EXIT.refused;
    default:
      return interrupted ? EXIT.interrupted : EXIT.refused;
  }
}

function wholeNumberUpTo(max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return parsed;
  };
}
