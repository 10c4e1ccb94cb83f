/**
 * A runner in the caller's process (as graphile-worker's run()): its engines, its TaskRunner and
 * Scheduler, and an emitter for what happens. It installs no signal handlers: stopping is the
 * caller's decision (the CLI stops on SIGINT/SIGTERM).
 *
 * The runner's modules (engines, stages, scheduler) are loaded when it starts, not when the library
 * is imported: a process that only lists or submits never loads them.
 */
import { EventEmitter } from "node:events";
import path from "node:path";
import type { ResolvedSettings } from "./config.js";
import { SophiaError, asError, isSophiaError } from "./errors.js";
import type { RunResult, Runner, RunnerEvents, RunnerOptions } from "./interfaces.js";
import type { RunOutcome, TaskRunner } from "./runner/runner.js";
import type { Scheduler } from "./runner/scheduler.js";
import type { SophiaEvent } from "./task/model/schema.js";
import type { TaskStore } from "./task/store/store.js";

async function runnerModules() {
  const [registry, stages, eventWriter, lifecycle, recovery, runner, scheduler, presence] = await Promise.all([
    import("./engines/registry.js"),
    import("./stages/index.js"),
    import("./task/events/event_writer.js"),
    import("./task/model/lifecycle.js"),
    import("./runner/recovery.js"),
    import("./runner/runner.js"),
    import("./runner/scheduler.js"),
    import("./runner/presence.js"),
  ]);
  return { ...registry, ...stages, ...eventWriter, ...lifecycle, ...recovery, ...runner, ...scheduler, ...presence };
}

export interface StartRunnerArgs {
  store: TaskStore;
  settings: ResolvedSettings;
  options: RunnerOptions;
}

class RunnerHandle extends EventEmitter implements Runner {
  done!: Promise<RunResult[]>;
  stop: () => Promise<void> = async () => undefined;

  override on<K extends keyof RunnerEvents>(event: K, listener: (...args: RunnerEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof RunnerEvents>(event: K, listener: (...args: RunnerEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  /** A listener that throws is the app's bug, but must not break the run it listens to. */
  tell<K extends keyof RunnerEvents>(event: K, ...args: RunnerEvents[K]): void {
    try {
      this.emit(event, ...args);
    } catch (thrown) {
      process.emitWarning(`a sophia runner "${event}" listener threw: ${asError(thrown).message}`);
    }
  }
}

export function startRunner({ store, settings, options }: StartRunnerArgs): Runner {
  if (options.task !== undefined && options.watch) throw new SophiaError("usage", "a runner either runs one task (task) or keeps watching (watch), not both");
  if (options.tasks !== undefined && (options.watch || options.task !== undefined)) throw new SophiaError("usage", "a runner given tasks runs them and finishes: not with watch or task");
  const chosen = options.tasks ?? (options.task === undefined ? undefined : [options.task]);
  const handle = new RunnerHandle();
  const kept = new KeptArtifacts(store.workspace.root);
  const results: RunResult[] = [];
  const report = (outcome: RunOutcome) => {
    const result = kept.resultOf(outcome);
    results.push(result);
    handle.tell("result", result);
    if (started?.runner.clusterLost) void handle.stop();
  };
  let stopping = false;
  // Set once the modules are loaded; a stop before that only keeps the runner from starting.
  let started: { runner: TaskRunner; scheduler: Scheduler | null } | null = null;

  handle.done = (async () => {
    const modules = await runnerModules();
    if (stopping) return results;
    const events = new modules.EventWriter(store.workspace.eventsDir, (event) => {
      kept.track(event);
      handle.tell("event", event);
    });
    const engines = new modules.EngineRegistry({
      python: settings.python,
      modelsDir: store.workspace.modelsDir,
      maxWorkers: settings.concurrency,
      allowModelDownload: settings.allowModelDownload,
      cluster: settings.cluster === null ? null : { address: settings.cluster, sharedPaths: settings.clusterSharedPaths },
    });
    const runner = new modules.TaskRunner({ store, events, stages: modules.createStages(engines), keepTmp: settings.keepTmp });
    const scheduler =
      chosen === undefined
        ? new modules.Scheduler({
            runner,
            store,
            events,
            concurrency: settings.concurrency,
            rescanSec: settings.rescanIntervalSec,
            onOutcome: report,
            onInvalid: (entry) => handle.tell("rejected", { id: entry.idFromName, file: entry.file, error: entry.error }),
            onConflict: (conflict) => handle.tell("conflict", conflict),
            onRecovered: (recovered) => handle.tell("recovered", recovered),
            onPassError: (error) => handle.tell("scanFailed", asError(error)),
            onWatching: () => handle.tell("watching"),
          })
        : null;
    started = { runner, scheduler };

    const runOne = async (taskId: string) => {
      // A task left `running` by a dead runner becomes runnable again first.
      for (const recovered of await modules.recoverOrphans(store, events)) handle.tell("recovered", recovered);
      const stored = await store.find(taskId);
      modules.assertTransition("claim", taskId, stored.task.status);
      if (stopping) return;
      report(await runner.run(stored));
    };
    // Of several, one taken meanwhile (by a watching runner, a cancel) is skipped, not the end of the rest.
    const runEach = async (taskIds: string[]) => {
      for (const taskId of taskIds) {
        if (stopping) return;
        await runOne(taskId).catch((error: unknown) => {
          if (!isSophiaError(error, "transition_refused")) throw error;
          report({ kind: "skipped", taskId, reason: error.message });
        });
      }
    };

    try {
      // A cluster that cannot be reached stops the runner here, before any task is claimed.
      await engines.connect();
      if (stopping) return results;
      if (options.tasks !== undefined) await runEach(options.tasks);
      else if (options.task !== undefined) await runOne(options.task);
      else if (options.watch) {
        // An idle watcher holds no lease: its presence file is what `status` shows it by.
        const presence = new modules.RunnerPresence(store.workspace);
        await presence.start();
        try {
          await scheduler?.watch();
        } finally {
          await presence.stop();
        }
      }
      else await scheduler?.drain();
      if (runner.clusterLost) throw runner.clusterLost;
      return results;
    } finally {
      await runner.abandonStranded();
      await engines.close();
    }
  })();
  handle.stop = async () => {
    stopping = true;
    started?.runner.shutdown();
    await started?.scheduler?.stop();
    await handle.done.catch(() => undefined);
  };
  return handle;
}

/** The files each task's current run has written and kept, from its events. */
class KeptArtifacts {
  private readonly byTask = new Map<string, RunResult["artifacts"]>();

  constructor(private readonly root: string) {}

  track(event: SophiaEvent): void {
    if (event.type === "task.started" || event.type === "stage.aborted") this.byTask.set(event.task_id, []);
    if (event.type === "artifact.written") {
      const list = this.byTask.get(event.task_id) ?? [];
      list.push({ kind: event.payload.kind, path: path.resolve(this.root, event.payload.path) });
      this.byTask.set(event.task_id, list);
    }
  }

  resultOf(outcome: RunOutcome): RunResult {
    const artifacts = outcome.kind === "done" || outcome.kind === "failed" ? (this.byTask.get(outcome.taskId) ?? []) : [];
    this.byTask.delete(outcome.taskId);
    const reason = outcome.kind === "failed" ? outcome.error.message : outcome.kind === "skipped" || outcome.kind === "busy" || outcome.kind === "crashed" ? outcome.reason : outcome.kind === "unwritable" ? unwritableReason(outcome) : undefined;
    return { taskId: outcome.taskId, outcome: outcome.kind, ...(reason === undefined ? {} : { reason }), artifacts };
  }
}

function unwritableReason(outcome: Extract<RunOutcome, { kind: "unwritable" }>): string {
  const left =
    outcome.left === "queued"
      ? "it was not started and stays queued"
      : "its end could not be recorded, so it stays running: a watching runner records it as failed once it can write again; after this runner exits, the next one queues it again";
  return `${outcome.error.message}; ${left}`;
}
