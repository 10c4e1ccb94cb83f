/**
 * TaskRunner: executes one task from claim to its final status.
 *
 *   lease → claim (queued → running) → stages → done | failed, under the claim lock each time.
 *
 * The run lease is taken before the claim so that there is no instant at which a task is `running`
 * without a live lease (recovery would take it for an orphan). While the stages run, a watchdog
 * re-reads the task file: a `cancel` from another process, or another runner taking the task over,
 * aborts the stages within WATCHDOG_MS.
 */
import { hostname } from "node:os";
import { rm } from "node:fs/promises";
import type { EngineRegistry } from "../engines/registry.js";
import { SophiaError, asError, isSophiaError } from "../errors.js";
import type { Artifact, Stage } from "../stages/stage.js";
import type { EventWriter } from "./events.js";
import type { Task, TaskError } from "./schema.js";
import type { StoredTask, TaskStore } from "./store.js";
import { resolveTaskPaths, type TaskPaths } from "./task_paths.js";

const WATCHDOG_MS = 400;
const PROGRESS_INTERVAL_MS = 500;

export type AbortReason = "canceled" | "shutdown" | "superseded";

export type RunOutcome =
  | { kind: "done"; taskId: string }
  | { kind: "failed"; taskId: string; error: TaskError }
  | { kind: "canceled"; taskId: string }
  | { kind: "handed_back"; taskId: string }
  | { kind: "superseded"; taskId: string }
  | { kind: "skipped"; taskId: string; reason: string };

export interface RunnerOptions {
  store: TaskStore;
  events: EventWriter;
  engines: EngineRegistry;
  stages: readonly Stage[];
  /** Keep `outputs/_tmp/<task_id>/` of every task (debugging); a task can also ask with config_snapshot.debug.keep_tmp. */
  keepTmp: boolean;
}

class StageAbort extends Error {
  constructor(readonly reason: AbortReason) {
    super(`stage aborted: ${reason}`);
  }
}

export class TaskRunner {
  private readonly active = new Map<string, AbortController>();
  private readonly stages: ReadonlyMap<string, Stage>;

  constructor(private readonly options: RunnerOptions) {
    this.stages = new Map(options.stages.map((stage) => [stage.name, stage]));
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Aborts every task this runner is executing; each is handed back to the queue. */
  shutdown(): void {
    for (const controller of this.active.values()) controller.abort(new StageAbort("shutdown"));
  }

  async run(candidate: StoredTask): Promise<RunOutcome> {
    const { store } = this.options;
    const taskId = candidate.task.task_id;
    const controller = new AbortController();
    const lease = await store.acquireLease(candidate.file, () => controller.abort(new StageAbort("superseded")));
    if (!lease) return { kind: "skipped", taskId, reason: "another runner holds it" };
    try {
      const claim = await this.claim(candidate.file);
      if (!claim) return { kind: "skipped", taskId, reason: "no longer queued" };
      this.active.set(candidate.file, controller);
      try {
        // A file the desktop app wrote itself has no `attempts` yet, and no `task.created` in the stream.
        if (claim.unannounced) await this.options.events.emit(claim.stored.task, "task.created", { input: claim.stored.task.input.media });
        return await this.execute(claim.stored, controller);
      } finally {
        this.active.delete(candidate.file);
      }
    } finally {
      await lease.release();
    }
  }

  private async claim(file: string): Promise<{ stored: StoredTask; unannounced: boolean } | null> {
    const now = new Date().toISOString();
    let unannounced = false;
    try {
      const stored = await this.options.store.transition(file, "claim", (task) => {
        unannounced = task.attempts === undefined;
        return {
          attempts: (task.attempts ?? 0) + 1,
          started_at: now,
          finished_at: null,
          runner: { host: hostname(), pid: process.pid, started_at: now },
          error: null,
        };
      });
      return { stored, unannounced };
    } catch (error) {
      if (isSophiaError(error, "transition_refused") || isSophiaError(error, "task_busy")) return null;
      throw error;
    }
  }

  private async execute(claimed: StoredTask, controller: AbortController): Promise<RunOutcome> {
    const { task, file } = claimed;
    const { events } = this.options;
    const started = performance.now();
    const attempt = task.attempts ?? 1;
    const written: Artifact[] = [];
    let currentStage: string | null = null;
    let paths: TaskPaths | null = null;
    const stopWatchdog = this.watchTaskFile(file, attempt, controller);

    await events.emit(task, "task.started", { pipeline: task.pipeline });
    try {
      const stages = this.plan(task);
      paths = resolveTaskPaths(task, this.options.store.workspace);
      for (const { stage, skip } of stages) {
        currentStage = stage.name;
        if (!skip) await stage.preflight({ task, paths, engines: this.options.engines, signal: controller.signal });
      }
      controller.signal.throwIfAborted();
      currentStage = null;
      for (const { stage, skip } of stages) {
        if (skip) {
          await events.emit(task, "stage.skipped", { stage: stage.name, reason: skip });
          continue;
        }
        currentStage = stage.name;
        written.push(...(await this.runStage(stage, task, paths, controller.signal)));
        currentStage = null;
      }
      stopWatchdog();
      return await this.finishDone(claimed, attempt, started, written, paths);
    } catch (thrown) {
      stopWatchdog();
      const abort = abortReasonOf(thrown, controller.signal);
      if (abort) return await this.finishAborted(claimed, attempt, abort, currentStage, written, paths);
      return await this.finishFailed(claimed, attempt, thrown, currentStage, written, paths);
    } finally {
      stopWatchdog();
      await this.removeTmp(task, paths);
    }
  }

  /** Every stage of the pipeline, checked before the first runs: an unknown or misplaced stage fails the task at once. */
  private plan(task: Task): { stage: Stage; skip: string | null }[] {
    const { pipeline } = task;
    return pipeline.map((name, position) => {
      const stage = this.stages.get(name);
      if (!stage) {
        throw new SophiaError("stage_unknown", `pipeline stage "${name}" is not available in this runner (available: ${[...this.stages.keys()].join(", ")})`, {
          details: { stage: name },
        });
      }
      if (pipeline.indexOf(name) !== position) throw new SophiaError("task_invalid", `pipeline lists "${name}" twice: each stage runs once`, { details: { pipeline } });
      const misplaced = stage.after?.find((before) => pipeline.indexOf(before) > position);
      if (misplaced) {
        throw new SophiaError("task_invalid", `pipeline lists "${name}" before "${misplaced}", but ${name} reads what ${misplaced} writes: put "${misplaced}" first`, { details: { pipeline } });
      }
      const skip = name === "refine" && task.config_snapshot.refine?.enabled === false ? "config_snapshot.refine.enabled is false" : null;
      return { stage, skip };
    });
  }

  private async runStage(stage: Stage, task: Task, paths: TaskPaths, signal: AbortSignal): Promise<Artifact[]> {
    const { events, engines } = this.options;
    const started = performance.now();
    await events.emit(task, "stage.started", { stage: stage.name });
    const progress = throttledProgress((fraction, msg) => {
      void events.emit(task, "stage.progress", { stage: stage.name, progress: fraction, msg }).catch(() => undefined);
    });
    const result = await stage.run({ task, paths, signal, progress, engines: engines satisfies EngineRegistry });
    signal.throwIfAborted();
    for (const artifact of result.artifacts) {
      await events.emit(task, "artifact.written", { path: paths.display(artifact.path), kind: artifact.kind });
    }
    await events.emit(task, "stage.completed", {
      stage: stage.name,
      duration_sec: roundSeconds(performance.now() - started),
      summary: result.summary,
    });
    return result.artifacts;
  }

  private async finishDone(claimed: StoredTask, attempt: number, started: number, written: Artifact[], paths: TaskPaths | null): Promise<RunOutcome> {
    const { task, file } = claimed;
    try {
      await this.options.store.transition(file, "complete", (current) => {
        assertStillOurs(current, attempt);
        return { finished_at: new Date().toISOString(), runner: null };
      });
    } catch (error) {
      // Canceled (or taken over) after the last stage finished: the user's word wins.
      if (isSophiaError(error, "transition_refused")) return this.finishAborted(claimed, attempt, "canceled", null, written, paths);
      throw error;
    }
    await this.options.events.emit(task, "task.completed", { duration_sec: roundSeconds(performance.now() - started) });
    return { kind: "done", taskId: task.task_id };
  }

  private async finishFailed(claimed: StoredTask, attempt: number, thrown: unknown, stage: string | null, written: Artifact[], paths: TaskPaths | null): Promise<RunOutcome> {
    const { task, file } = claimed;
    const error = taskErrorOf(thrown, stage);
    try {
      await this.options.store.transition(file, "fail", (current) => {
        assertStillOurs(current, attempt);
        return { error, finished_at: error.at, runner: null };
      });
    } catch (refusal) {
      if (isSophiaError(refusal, "transition_refused")) return this.finishAborted(claimed, attempt, "canceled", stage, written, paths);
      throw refusal;
    }
    await this.options.events.emit(task, "task.failed", { error: error.message, stack: error.stack ?? "" });
    return { kind: "failed", taskId: task.task_id, error };
  }

  private async finishAborted(claimed: StoredTask, attempt: number, reason: AbortReason, stage: string | null, written: Artifact[], paths: TaskPaths | null): Promise<RunOutcome> {
    const { task, file } = claimed;
    // A superseding runner owns the outputs now; anything else leaves no partial results behind.
    const removed = reason === "superseded" ? [] : await removeArtifacts(written, paths);
    await this.options.events.emit(task, "stage.aborted", { stage, reason, removed });
    if (reason === "shutdown") {
      const handedBack = await this.options.store.transition(file, "hand_back", (current) => {
        assertStillOurs(current, attempt);
        // The interrupted attempt does not count towards the recovery limit.
        return { attempts: Math.max(0, attempt - 1), started_at: null, runner: null };
      });
      await this.options.events.emit(task, "task.requeued", { reason: "shutdown", attempts: handedBack.task.attempts ?? 0 });
      return { kind: "handed_back", taskId: task.task_id };
    }
    return reason === "canceled" ? { kind: "canceled", taskId: task.task_id } : { kind: "superseded", taskId: task.task_id };
  }

  /** Polls the task file while it runs: cancel, or another runner's takeover, aborts the stages. */
  private watchTaskFile(file: string, attempt: number, controller: AbortController): () => void {
    const timer = setInterval(() => {
      this.options.store.read(file).then(
        ({ task }) => {
          if (task.status === "canceled") controller.abort(new StageAbort("canceled"));
          else if (task.status !== "running" || task.attempts !== attempt || task.runner?.pid !== process.pid) controller.abort(new StageAbort("superseded"));
        },
        () => undefined, // mid-write by the app, or gone: decided at the final transition instead
      );
    }, WATCHDOG_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async removeTmp(task: Task, paths: TaskPaths | null): Promise<void> {
    const keep = this.options.keepTmp || task.config_snapshot.debug?.keep_tmp === true;
    if (!keep && paths) await rm(paths.tmpDir, { recursive: true, force: true });
  }
}

function assertStillOurs(current: Task, attempt: number): void {
  if (current.attempts !== attempt || current.runner?.pid !== process.pid) {
    throw new SophiaError("transition_refused", `task ${current.task_id} was taken over by another runner`, {});
  }
}

function abortReasonOf(thrown: unknown, signal: AbortSignal): AbortReason | null {
  if (thrown instanceof StageAbort) return thrown.reason;
  if (signal.aborted && signal.reason instanceof StageAbort) return signal.reason.reason;
  return null;
}

function taskErrorOf(thrown: unknown, stage: string | null): TaskError & { at: string } {
  const error = asError(thrown);
  const code = isSophiaError(error) ? error.code : "internal";
  const traceback = isSophiaError(error) && typeof error.details.traceback === "string" ? `\n\nEngine traceback:\n${error.details.traceback}` : "";
  return { code, message: error.message, stage, stack: `${fullStack(error)}${traceback}`, at: new Date().toISOString() };
}

function fullStack(error: Error): string {
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause instanceof Error ? `${own}\nCaused by: ${fullStack(error.cause)}` : own;
}

async function removeArtifacts(written: Artifact[], paths: TaskPaths | null): Promise<string[]> {
  const removed: string[] = [];
  for (const artifact of written) {
    await rm(artifact.path, { force: true });
    removed.push(paths ? paths.display(artifact.path) : artifact.path);
  }
  return removed;
}

/** At most one progress event per PROGRESS_INTERVAL_MS, plus the first and the last; never backwards. */
function throttledProgress(emit: (fraction: number, msg: string) => void): (fraction: number, msg: string) => void {
  let lastAt = -Infinity;
  let highest = -1;
  return (fraction, msg) => {
    const clamped = Math.min(1, Math.max(0, highest, fraction));
    const now = performance.now();
    const finished = clamped === 1 && highest < 1;
    if (!finished && (clamped <= highest || now - lastAt < PROGRESS_INTERVAL_MS)) return;
    lastAt = now;
    highest = clamped;
    emit(Math.round(clamped * 1000) / 1000, msg);
  };
}

function roundSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}
