/** `sophia-cli run [--task <id> | --watch]`: the runner's three modes. */
import { Command, InvalidArgumentError } from "commander";
import { EngineRegistry } from "../engines/registry.js";
import { resolveSettings } from "../config.js";
import { STAGES } from "../stages/index.js";
import { recoverOrphans } from "../task/recovery.js";
import { TaskRunner, type RunOutcome } from "../task/runner.js";
import { Scheduler } from "../task/scheduler.js";
import { assertTransition } from "../task/lifecycle.js";
import { openContext, printJson, type CliContext, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";
import { createProgressView, type ProgressView } from "./progress_view.js";

interface RunOptions {
  task?: string;
  watch?: boolean;
  concurrency: number;
  rescanInterval: number;
  keepTmp?: boolean;
  progress: boolean;
}

export function runCommand(): Command {
  return new Command("run")
    .description("run queued tasks: all of them then exit (default), one (--task), or keep watching (--watch)")
    .option("--task <id>", "run this one task now")
    .option("--watch", "keep running: pick up new task files as they appear, until SIGINT/SIGTERM")
    .option("--concurrency <n>", "tasks run at once", positiveInt, 1)
    .option("--rescan-interval <sec>", "watch mode: seconds between safety-net rescans of the task folder", positiveInt, 5)
    .option("--keep-tmp", "keep every task's outputs/_tmp/<task_id>/ for debugging")
    .option("--no-progress", "no progress bars or stage lines on stderr")
    .action(async (options: RunOptions, command: Command) => {
      if (options.task && options.watch) throw new InvalidArgumentError("--task and --watch cannot be combined");
      const view = createProgressView(options.progress);
      const context = openContext(command.optsWithGlobals<GlobalOptions>(), (event) => view.onEvent(event));
      const settings = resolveSettings({ keepTmp: options.keepTmp ? true : undefined, concurrency: options.concurrency });
      const engines = new EngineRegistry({ python: settings.python, modelsDir: context.workspace.modelsDir, maxWorkers: settings.concurrency, allowModelDownload: settings.allowModelDownload });
      const runner = new TaskRunner({ store: context.store, events: context.events, engines, stages: STAGES, keepTmp: settings.keepTmp });
      try {
        if (options.task) process.exitCode = await runOne(context, runner, view, options.task);
        else if (options.watch) process.exitCode = await runWatch(context, runner, view, options);
        else process.exitCode = await runAll(context, runner, view, options);
      } finally {
        view.stop();
        await engines.close();
      }
    });
}

async function runOne(context: CliContext, runner: TaskRunner, view: ProgressView, taskId: string): Promise<number> {
  // A task left `running` by a dead runner becomes runnable again first.
  await recoverOrphans(context.store, context.events);
  const stored = await context.store.find(taskId);
  assertTransition("claim", taskId, stored.task.status);
  const interrupted = onSignals(view, () => runner.shutdown());
  try {
    const outcome = await runner.run(stored);
    if (context.json) printJson([outcome]);
    else view.log(`sophia-cli: ${outcomeLine(outcome)}`);
    if (outcome.kind === "skipped") return EXIT.refused;
    return exitCodeOf(outcome, interrupted());
  } finally {
    interrupted.dispose();
  }
}

async function runAll(context: CliContext, runner: TaskRunner, view: ProgressView, options: RunOptions): Promise<number> {
  const scheduler = newScheduler(context, runner, view, options);
  const interrupted = onSignals(view, () => void scheduler.stop());
  try {
    const outcomes = await scheduler.drain();
    if (context.json) printJson(outcomes);
    else if (outcomes.length === 0) view.log("sophia-cli: no queued tasks");
    if (interrupted()) return EXIT.interrupted;
    return outcomes.some((outcome) => outcome.kind === "failed") ? EXIT.failed : EXIT.ok;
  } finally {
    interrupted.dispose();
  }
}

async function runWatch(context: CliContext, runner: TaskRunner, view: ProgressView, options: RunOptions): Promise<number> {
  const scheduler = newScheduler(context, runner, view, options, () =>
    view.log(`sophia-cli: watching ${context.workspace.tasksDir} (concurrency ${options.concurrency}); Ctrl-C to stop`),
  );
  const stopping = scheduler.watch();
  const interrupted = onSignals(view, () => void scheduler.stop());
  try {
    await stopping;
    return EXIT.ok;
  } finally {
    interrupted.dispose();
  }
}

function newScheduler(context: CliContext, runner: TaskRunner, view: ProgressView, options: RunOptions, onWatching?: () => void): Scheduler {
  return new Scheduler({
    runner,
    store: context.store,
    events: context.events,
    concurrency: options.concurrency,
    rescanSec: options.rescanInterval,
    onOutcome: (outcome) => view.log(`sophia-cli: ${outcomeLine(outcome)}`),
    onInvalid: (entry) => view.log(`sophia-cli: skipping ${entry.file}: ${entry.error.message}`),
    onRecovered: (recovered) => view.log(`sophia-cli: recovered task ${recovered.taskId} from a dead runner: ${recovered.action}`),
    onPassError: (error) => view.log(`sophia-cli: ${(error as Error).message}`),
    onWatching,
  });
}

/**
 * First SIGINT/SIGTERM: stop gracefully (hand running tasks back). A second: exit at once; the
 * task stays `running` and the next runner recovers it.
 */
function onSignals(view: ProgressView, stop: () => void): (() => boolean) & { dispose(): void } {
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

function outcomeLine(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case "failed":
      return `task ${outcome.taskId} failed: ${outcome.error.message}`;
    case "skipped":
      return `task ${outcome.taskId} skipped: ${outcome.reason}`;
    case "handed_back":
      return `task ${outcome.taskId} handed back to the queue`;
    default:
      return `task ${outcome.taskId} ${outcome.kind}`;
  }
}

function exitCodeOf(outcome: RunOutcome, interrupted: boolean): number {
  switch (outcome.kind) {
    case "done":
      return EXIT.ok;
    case "canceled":
      return EXIT.canceled;
    case "handed_back":
      return EXIT.interrupted;
    case "failed":
      return EXIT.failed;
    default:
      return interrupted ? EXIT.interrupted : EXIT.refused;
  }
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return parsed;
}
