/**
 * TaskRunner: executes one task from claim to its final status.
 *
 *   lease → claim (queued → running) → stages → done | failed, under the claim lock each time.
 *
 * The run lease is taken before the claim so that there is no instant at which a task is `running`
 * without a live lease (recovery would take it for an orphan). While the stages run, a watchdog
 * re-reads the task file: a `cancel` from another process, or another runner taking the task over,
 * aborts the stages within WATCHDOG_MS.
 *
 * Who owns a run: the runner whose claim wrote the task file's `run_token`, for as long as the file
 * still names it. Every later write passes the token to the store, which checks it where it writes
 * (under the claim lock, fenced: store.ts, claim_lock.ts). A runner that finds
 * the task is no longer its own (it was frozen past the lease and another runner took over) is
 * `superseded`: it touches nothing, neither the task file nor any output nor `_tmp`, because all of
 * that belongs to the new owner now. A cancel is the user's word on a run that is still ours: only
 * then are this attempt's outputs removed.
 */
import { hostname } from "node:os";
import { rm, stat } from "node:fs/promises";
import { SophiaError, asError, isSophiaError } from "../errors.js";
import type { Stage, StageResult } from "../stages/stage.js";
import type { EventWriter } from "../task/events/event_writer.js";
import { isAnnounced, runOf, runOwnership, type TransitionName } from "../task/model/lifecycle.js";
import type { EventPayload, EventType, RunnerInfo, Task, TaskError } from "../task/model/schema.js";
import type { Lease } from "../task/store/lease_keeper.js";
import type { StoredTask } from "../task/model/stored_task.js";
import type { TaskStore } from "../task/store/store.js";
import { ProgressThrottle } from "./progress_throttle.js";
import { writeMissingEvents } from "../task/events/event_repair.js";
import { makeTmpFolder } from "./tmp_folder.js";
import { ERROR_MESSAGE_MAX_CHARS, ERROR_STACK_MAX_CHARS, clipped } from "../task/model/task_file_limits.js";
import { assertOutputsFree } from "./output_owners.js";
import { pipelineOutputs } from "../stages/pipeline.js";
import { namedOutputs, resolveTaskPaths, type TaskPaths } from "../task/model/task_paths.js";

const PROGRESS_INTERVAL_MS = 500;

export type AbortReason = "canceled" | "shutdown" | "superseded";

export type RunOutcome =
  | { kind: "done"; taskId: string }
  | { kind: "failed"; taskId: string; error: TaskError }
  /** The user canceled it; this attempt's outputs are removed. */
  | { kind: "canceled"; taskId: string }
  /** Shutdown: back in the queue, this attempt's outputs removed. */
  | { kind: "handed_back"; taskId: string }
  /** Another runner took it over while this one was frozen: nothing touched. */
  | { kind: "superseded"; taskId: string }
  /** Another runner holds its run lease: not started. */
  | { kind: "busy"; taskId: string; reason: string }
  /** No longer queued when this runner came to claim it: not started. */
  | { kind: "skipped"; taskId: string; reason: string }
  /**
   * The workspace could not be written (disk full, read-only), so the task's state could not be
   * recorded. `left` says what the task file still shows: `queued` (the claim was not written), or
   * `running` (this runner keeps its lease and records the failure once it can; if it exits first,
   * the next runner recovers the task).
   */
  | { kind: "unwritable"; taskId: string; error: SophiaError; left: "queued" | "running" }
  /** The runner failed unexpectedly while running it (a bug, not the task's fault): `reason` says how. */
  | { kind: "crashed"; taskId: string; reason: string };

export interface TaskRunnerOptions {
  store: TaskStore;
  events: EventWriter;
  stages: readonly Stage[];
  /** Keep `outputs/_tmp/<task_id>/` of every task (debugging); a task can also ask with config_snapshot.debug.keep_tmp. */
  keepTmp: boolean;
  /** How often a running task's file is re-read for cancel or takeover. @defaultValue 400 */
  watchdogMs?: number;
}

class StageAbort extends Error {
  constructor(readonly reason: AbortReason) {
    super(`stage aborted: ${reason}`);
  }
}

/** What the claim wrote: the run is ours while the task file still names `run`. */
interface Claim {
  stored: StoredTask;
  attempt: number;
  /** The run token the claim wrote (runOf). */
  run: string;
  /** A file the desktop app wrote itself: no `task.created` in the stream yet. */
  unannounced: boolean;
}

type Ownership = "ours" | "canceled" | "superseded";

/** A file this attempt created (it was not there before the stage ran), as it was when written. */
interface CreatedFile {
  path: string;
  dev: number;
  ino: number;
}

/** One attempt at a claimed task, as it goes. */
interface Attempt {
  claim: Claim;
  started: number;
  stage: string | null;
  paths: TaskPaths | null;
  created: CreatedFile[];
}

/** A claimed run whose end could not be written: the lease is kept so that nobody takes the task for an orphan. */
interface Stranded {
  claim: Claim;
  lease: Lease;
  error: SophiaError;
}

export class TaskRunner {
  private readonly active = new Map<string, AbortController>();
  private readonly stranded = new Map<string, Stranded>();
  private readonly stages: ReadonlyMap<string, Stage>;
  private lostCluster: SophiaError | null = null;

  constructor(private readonly options: TaskRunnerOptions) {
    this.stages = new Map(options.stages.map((stage) => [stage.name, stage]));
  }

  /**
   * The cluster the engine runs on could not be reached (cluster_unavailable): every task this runner
   * was executing went back to the queue, and it is shutting down (spec §4, faults). Null otherwise.
   */
  get clusterLost(): SophiaError | null {
    return this.lostCluster;
  }

  /** Aborts every task this runner is executing; each is handed back to the queue. */
  shutdown(): void {
    for (const controller of this.active.values()) controller.abort(new StageAbort("shutdown"));
  }

  async run(candidate: StoredTask): Promise<RunOutcome> {
    const { store } = this.options;
    const taskId = candidate.task.task_id;
    const controller = new AbortController();
    // A lease already there belonged to a process that died holding it: a runner before its claim,
    // or a `submit` before its `task.created` (store.create).
    const inherited = (await store.leaseStaleAt(candidate.file)) !== null;
    const lease = await store.acquireLease(candidate.file, () => controller.abort(new StageAbort("superseded"))).catch((error: unknown) => {
      if (isWriteFailure(error)) return error;
      throw error;
    });
    if (lease instanceof SophiaError) return { kind: "unwritable", taskId, error: lease, left: "queued" };
    if (!lease) return { kind: "busy", taskId, reason: "another runner holds its run lease" };
    let keepLease = false;
    try {
      const claim = await this.claim(candidate.file).catch((error: unknown) => {
        if (isWriteFailure(error)) return error;
        throw error;
      });
      if (claim instanceof SophiaError) return { kind: "unwritable", taskId, error: claim, left: "queued" };
      if (!claim) return { kind: "skipped", taskId, reason: "no longer queued" };
      this.active.set(candidate.file, controller);
      try {
        if (claim.unannounced) await this.options.events.emit(claim.stored.task, "task.created", { input: claim.stored.task.input.media });
        else if (inherited) await writeMissingEvents(this.options.events, candidate.task);
        const outcome = await this.execute(claim, controller);
        // The lease may be the new owner's by now: let it go stale rather than remove it.
        if (outcome.kind === "superseded") await lease.abandon();
        return outcome;
      } catch (thrown) {
        if (!isWriteFailure(thrown)) throw thrown;
        // The task file still says `running`, ours: keep the lease, or any runner (this one
        // included) would "recover" the task from a runner that is alive.
        keepLease = true;
        this.stranded.set(candidate.file, { claim, lease, error: thrown });
        return { kind: "unwritable", taskId, error: thrown, left: "running" };
      } finally {
        this.active.delete(candidate.file);
      }
    } finally {
      if (!keepLease) await lease.release();
    }
  }

  /**
   * Tries again to record each run whose end could not be written: as `failed`, with the write's
   * error (disk full, read-only). Returns the runs now recorded; the others stay stranded.
   */
  async settleStranded(): Promise<RunOutcome[]> {
    const settled: RunOutcome[] = [];
    for (const [file, { claim, lease, error }] of this.stranded) {
      const taskError = taskErrorOf(new SophiaError(error.code, `the run could not be recorded: ${error.message}`, { cause: error }), null);
      const ownership = await this.settle(claim, "fail", () => ({ error: taskError, finished_at: taskError.at, runner: null })).catch((thrown: unknown) => {
        if (isWriteFailure(thrown)) return null;
        throw thrown;
      });
      if (ownership === null) continue;
      this.stranded.delete(file);
      await lease.release();
      const { task } = claim.stored;
      await this.announce(task, "task.failed", { error: taskError.message, stack: taskError.stack ?? "" });
      await this.removeTmp(task);
      settled.push(ownership === "ours" ? { kind: "failed", taskId: task.task_id, error: taskError } : { kind: ownership, taskId: task.task_id });
    }
    return settled;
  }

  /**
   * For a runner about to exit: stops refreshing the leases of runs it could not record, without
   * removing them, so the task stays `running` until this process is gone, and the next runner
   * then recovers it (its runner is dead by then, as recovery says).
   */
  async abandonStranded(): Promise<void> {
    for (const [file, { lease }] of this.stranded) {
      this.stranded.delete(file);
      await lease.abandon();
    }
  }

  private async claim(file: string): Promise<Claim | null> {
    const now = new Date().toISOString();
    const runner: RunnerInfo = { host: hostname(), pid: process.pid, started_at: now };
    let attempt = 0;
    let unannounced = false;
    try {
      const stored = await this.options.store.transition(file, "claim", (task) => {
        unannounced = !isAnnounced(task);
        attempt = (task.attempts ?? 0) + 1;
        return { attempts: attempt, started_at: now, finished_at: null, runner, error: null };
      });
      return { stored, attempt, run: runOf(stored.task), unannounced };
    } catch (error) {
      if (isSophiaError(error, "transition_refused") || isSophiaError(error, "task_busy")) return null;
      throw error;
    }
  }

  private async execute(claim: Claim, controller: AbortController): Promise<RunOutcome> {
    const { task } = claim.stored;
    const run: Attempt = { claim, started: performance.now(), stage: null, paths: null, created: [] };
    const stopWatchdog = this.watchTaskFile(claim, controller);
    let outcome: RunOutcome;
    try {
      await this.options.events.emit(task, "task.started", { pipeline: task.pipeline });
      await this.runPipeline(run, controller.signal);
      stopWatchdog();
      outcome = await this.finishDone(run);
    } catch (thrown) {
      stopWatchdog();
      // Not the task's fault: it goes back to the queue with every other task of this runner, which stops.
      if (isSophiaError(thrown, "cluster_unavailable")) {
        this.lostCluster ??= thrown;
        this.shutdown();
        controller.abort(new StageAbort("shutdown"));
      }
      const abort = abortReasonOf(thrown, controller.signal);
      outcome = abort ? await this.finishAborted(run, abort) : await this.finishFailed(run, thrown);
    } finally {
      stopWatchdog();
    }
    // A superseded runner's _tmp folder is the new owner's now.
    if (outcome.kind !== "superseded") await this.removeTmp(task);
    return outcome;
  }

  private async runPipeline(run: Attempt, signal: AbortSignal): Promise<void> {
    const { task } = run.claim.stored;
    const stages = this.plan(task);
    run.paths = resolveTaskPaths(task, this.options.store.workspace);
    // Outputs that would overwrite each other fail the task before any preflight, as a bad path does.
    pipelineOutputs(task, run.paths, this.options.stages);
    for (const { stage, skip } of stages) {
      run.stage = stage.name;
      if (!skip) await stage.preflight({ task, paths: run.paths, signal });
    }
    signal.throwIfAborted();
    run.stage = null;
    // After the task's own checks, so a task that is wrong in itself says so first.
    await assertOutputsFree(this.options.store, task, run.paths, this.options.stages, { when: "start", file: run.claim.stored.file });
    makeTmpFolder(this.options.store.workspace, task.task_id);
    for (const { stage, skip } of stages) {
      if (skip) {
        await this.options.events.emit(task, "stage.skipped", { stage: stage.name, reason: skip });
        continue;
      }
      run.stage = stage.name;
      await this.runStage(stage, run, run.paths, signal);
      run.stage = null;
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
      const skip = stage.skipReason?.(task) ?? null;
      return { stage, skip };
    });
  }

  private async runStage(stage: Stage, run: Attempt, paths: TaskPaths, signal: AbortSignal): Promise<void> {
    const { events } = this.options;
    const { task } = run.claim.stored;
    signal.throwIfAborted();
    const started = performance.now();
    await events.emit(task, "stage.started", { stage: stage.name });
    const progress = new ProgressThrottle((fraction, msg) => {
      void events.emit(task, "stage.progress", { stage: stage.name, progress: fraction, msg }).catch(() => undefined);
    }, PROGRESS_INTERVAL_MS);
    const existedBefore = await existingFiles(namedOutputs(paths).map((output) => output.path));
    let result: StageResult;
    try {
      result = await stage.run({ task, paths, signal, progress: (fraction, msg) => progress.report(fraction, msg) });
    } catch (thrown) {
      // A stage that stopped part-way may have written an output before it stopped.
      run.created.push(...(await createdFiles([...existedBefore.keys()], existedBefore)));
      throw thrown;
    } finally {
      progress.close();
    }
    // Before the abort check: a cancel that lands while the stage returns must still remove what it wrote.
    run.created.push(...(await createdFiles(result.artifacts.map((artifact) => artifact.path), existedBefore)));
    signal.throwIfAborted();
    for (const artifact of result.artifacts) {
      await events.emit(task, "artifact.written", { path: paths.display(artifact.path), kind: artifact.kind });
    }
    await events.emit(task, "stage.completed", {
      stage: stage.name,
      duration_sec: roundSeconds(performance.now() - started),
      summary: result.summary,
    });
  }

  private async finishDone(run: Attempt): Promise<RunOutcome> {
    const { task } = run.claim.stored;
    const settled = await this.settle(run.claim, "complete", () => ({ finished_at: new Date().toISOString(), runner: null }));
    // Canceled after the last stage finished (the user's word wins), or no longer ours.
    if (settled !== "ours") return this.finishAborted(run, settled);
    await this.announce(task, "task.completed", { duration_sec: roundSeconds(performance.now() - run.started) });
    return { kind: "done", taskId: task.task_id };
  }

  private async finishFailed(run: Attempt, thrown: unknown): Promise<RunOutcome> {
    const { task } = run.claim.stored;
    const error = taskErrorOf(thrown, run.stage);
    const settled = await this.settle(run.claim, "fail", () => ({ error, finished_at: error.at, runner: null }));
    if (settled !== "ours") return this.finishAborted(run, settled);
    await this.announce(task, "task.failed", { error: error.message, stack: error.stack ?? "" });
    return { kind: "failed", taskId: task.task_id, error };
  }

  private async finishAborted(run: Attempt, reason: AbortReason): Promise<RunOutcome> {
    const { task, file } = run.claim.stored;
    if (reason === "shutdown") {
      const settled = await this.settle(run.claim, "hand_back", () => ({
        // The interrupted attempt does not count towards the recovery limit.
        attempts: Math.max(0, run.claim.attempt - 1),
        started_at: null,
        runner: null,
      }));
      if (settled === "ours") {
        await this.emitAborted(run, "shutdown", await this.removeCreated(run));
        await this.announce(task, "task.requeued", { reason: "shutdown", attempts: run.claim.attempt - 1 });
        return { kind: "handed_back", taskId: task.task_id };
      }
      reason = settled;
    } else if (reason === "canceled") {
      // The watchdog saw `canceled`; whether it is still our run decides who may remove outputs.
      const current = await this.options.store.read(file).catch(() => null);
      if (current && ownershipOf(current.task, run.claim) === "superseded") reason = "superseded";
    }
    if (reason === "superseded") {
      await this.emitAborted(run, "superseded", []);
      return { kind: "superseded", taskId: task.task_id };
    }
    await this.emitAborted(run, "canceled", await this.removeCreated(run));
    return { kind: "canceled", taskId: task.task_id };
  }

  private async emitAborted(run: Attempt, reason: AbortReason, removed: string[]): Promise<void> {
    await this.announce(run.claim.stored.task, "stage.aborted", { stage: run.stage, reason, removed });
  }

  /**
   * An event about a state the task file already records. If the stream cannot be written (disk
   * full, read-only), the event is lost, not the run: the task file is the record.
   */
  private async announce<T extends EventType>(task: Task, type: T, payload: EventPayload<T>): Promise<void> {
    await this.options.events.emit(task, type, payload).catch((error: unknown) => {
      if (!isWriteFailure(error)) throw error;
    });
  }

  /**
   * The final write of a run, made only while the run is still ours: returns "ours" once written,
   * otherwise what the task file says instead (canceled by the user, or taken over).
   */
  private async settle(claim: Claim, name: TransitionName, change: (task: Task) => Record<string, unknown>): Promise<Ownership> {
    try {
      await this.options.store.transition(claim.stored.file, name, change, { run: claim.run });
      return "ours";
    } catch (error) {
      if (isSophiaError(error, "canceled")) return "canceled";
      if (isSophiaError(error, "superseded")) return "superseded";
      throw error;
    }
  }

  /** Only the files this attempt created, and only while they are still the files it wrote. */
  private async removeCreated(run: Attempt): Promise<string[]> {
    const removed: string[] = [];
    for (const file of run.created) {
      const now = await identityOf(file.path);
      if (now?.dev !== file.dev || now.ino !== file.ino) continue;
      await rm(file.path, { force: true });
      removed.push(run.paths ? run.paths.display(file.path) : file.path);
    }
    return removed;
  }

  /** Polls the task file while it runs: cancel, or another runner's takeover, aborts the stages. */
  private watchTaskFile(claim: Claim, controller: AbortController): () => void {
    const timer = setInterval(() => {
      this.options.store.read(claim.stored.file).then(
        ({ task }) => {
          const ownership = ownershipOf(task, claim);
          if (ownership !== "ours") controller.abort(new StageAbort(ownership));
        },
        () => undefined, // mid-write by the app, or gone: decided at the final transition instead
      );
    }, this.options.watchdogMs ?? 400);
    return () => clearInterval(timer);
  }

  private async removeTmp(task: Task): Promise<void> {
    const keep = this.options.keepTmp || task.config_snapshot.debug?.keep_tmp === true;
    if (!keep) await rm(this.options.store.workspace.tmpDir(task.task_id), { recursive: true, force: true });
  }
}

/** A write the workspace refused: the disk is full, or it is read-only or not permitted. */
function isWriteFailure(error: unknown): error is SophiaError {
  return isSophiaError(error, "disk_full") || isSophiaError(error, "workspace_unwritable");
}

/** What the watchdog and a cancel make of the task file as read; the store decides again where it writes. */
function ownershipOf(current: Task, claim: Claim): Ownership {
  return runOwnership(current, claim.run);
}

async function identityOf(file: string): Promise<{ dev: number; ino: number } | null> {
  const info = await stat(file).catch(() => null);
  return info?.isFile() ? { dev: info.dev, ino: info.ino } : null;
}

async function existingFiles(files: readonly string[]): Promise<Map<string, boolean>> {
  return new Map(await Promise.all(files.map(async (file) => [file, (await identityOf(file)) !== null] as const)));
}

/** The files among `files` that are there now and were not before the stage ran; a path the runner did not look at counts as not created. */
async function createdFiles(files: readonly string[], existedBefore: ReadonlyMap<string, boolean>): Promise<CreatedFile[]> {
  const created: CreatedFile[] = [];
  for (const file of files) {
    if (existedBefore.get(file) !== false) continue;
    const identity = await identityOf(file);
    if (identity) created.push({ path: file, ...identity });
  }
  return created;
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
  // Capped: the task file must stay readable whatever an engine's traceback holds (task_file_limits.ts).
  return { code, message: clipped(error.message, ERROR_MESSAGE_MAX_CHARS), stage, stack: clipped(`${fullStack(error)}${traceback}`, ERROR_STACK_MAX_CHARS), at: new Date().toISOString() };
}

function fullStack(error: Error): string {
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause instanceof Error ? `${own}\nCaused by: ${fullStack(error.cause)}` : own;
}

function roundSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}
