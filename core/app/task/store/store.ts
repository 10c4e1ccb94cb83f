/**
 * TaskStore: the only reader and writer of task files and their locks.
 *
 * Files: `tasks/{timestamp}_{task_id}.task.json`. Beside each, while in use:
 *  - `<file>.lock`  the claim lock, held for the few milliseconds of a read-modify-write
 *    (claim_lock.ts): every write of the file is a rename from the holder's own folder inside it,
 *    so a holder whose lock was taken over (it was frozen) cannot write;
 *  - `<file>.lease` the run lease, held by the runner for as long as it executes the task: a
 *    proper-lockfile lock, a folder made with mkdir whose mtime the holder refreshes; one whose mtime
 *    is older than its stale time is taken over, so a lease left by a dead process blocks nobody for long.
 *
 * Every write starts from the file as it is on disk under the claim lock, so concurrent writers
 * (runners, `cancel`, `retry`) never lose each other's changes. A write made for a run (`run`: the
 * run token the claim wrote) is made only while the file still names that run: ownership is checked
 * here, where the file is written, not by the caller. How the folder is listed and what is kept
 * between passes is the folder index's (folder_index.ts).
 */
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { removeAbandonedTemps } from "../../atomic_write.js";
import { writeFailure } from "../../fs_errors.js";
import { SophiaError } from "../../errors.js";
import { TRANSITIONS, assertTransition, runOf, runOwnership, type TransitionName } from "../model/lifecycle.js";
import type { Task } from "../model/schema.js";
import { isFinished } from "../model/task_status.js";
import { taskConflict, type StoredTask, type TaskEntry } from "../model/stored_task.js";
import { FolderIndex } from "./folder_index.js";
import { leaseKeeper, type Lease } from "./lease_keeper.js";
import { readRefusal, readTaskBytes, taskParser } from "./read_task_file.js";
import { ClaimBusy, ClaimLost, removeAbandonedClaimFolders, withClaim, type HeldClaim } from "./claim_lock.js";
import { taskFileName, taskIdFromFileName } from "../model/task_file_name.js";
import { TASK_FILE_READ_MAX_BYTES } from "../model/task_file_limits.js";
import type { Workspace } from "../model/workspace.js";

export { isTaskFileName, taskFileName, taskIdFromFileName } from "../model/task_file_name.js";

// Loaded on first use: a `list` served by the task cache takes no lock.
let lockfileModule: Promise<typeof import("proper-lockfile")> | null = null;
const lockfile = () => (lockfileModule ??= import("proper-lockfile"));
export { TASK_FILE_MAX_BYTES } from "../model/task_file_limits.js";

/** A run lease whose holder stopped refreshing it this long ago belongs to a dead (or frozen) runner. */
export const LEASE_STALE_MS = 10_000;
const LEASE_REFRESH_MS = 2_000;

/** How a running task's runner is gone, when it is: the task is then recovered (`recover`). */
export type DeadRunner =
  /** Its process no longer exists on this host, and its lease is still fresh. */
  | "process_gone"
  /** Nobody has refreshed its lease for LEASE_STALE_MS: dead or frozen, on any host. */
  | "lease_stale";

export class TaskStore {
  private readonly index: FolderIndex;

  /**
   * `taskCache` (config.ts's setting, default true): keep what was read of each task file between
   * passes and in the summary file. `now` only for tests of the cache's clock rules.
   */
  constructor(
    readonly workspace: Workspace,
    options: { taskCache?: boolean; now?: () => number } = {},
  ) {
    this.index = new FolderIndex(workspace, options.now ?? Date.now, options.taskCache ?? true);
  }

  /**
   * Every task file, valid or not, in name order (oldest timestamp first). Files unchanged since the
   * last call come from the folder index (folder_index.ts); a claim never does: it re-reads under the lock.
   */
  list(options: { trust?: "finished" | "done" } = {}): Promise<TaskEntry[]> {
    return this.index.list(options);
  }

  /** `list` and `filesWithLeftovers` from one listing of the folder: a scheduler's scan needs both. */
  listWithLeftovers(): Promise<{ entries: TaskEntry[]; leftovers: Set<string> }> {
    return this.index.listWithLeftovers();
  }

  /** The tasks that declare one of `realOutputs` (real paths) as an output, in name order (folder_index.ts). */
  outputClaimants(realOutputs: readonly string[], when: "start" | "submit"): Promise<StoredTask[]> {
    return this.index.outputClaimants(realOutputs, when);
  }

  /** The task files that have something beside them: a lease, a claim lock, a temporary file. */
  filesWithLeftovers(): Promise<Set<string>> {
    return this.index.filesWithLeftovers();
  }

  /** The watcher saw the file change: the next `list` and the next start check read it whatever its stamp says. */
  forget(file: string): void {
    this.index.forget(file);
  }

  async find(taskId: string): Promise<StoredTask> {
    const names = (await this.index.taskFileNames()).filter((name) => taskIdFromFileName(name) === taskId);
    if (names.length === 0) {
      throw new SophiaError("task_not_found", `no task "${taskId}" in ${this.workspace.tasksDir} (\`sophia-cli list\` shows the tasks there)`, {
        details: { task_id: taskId },
      });
    }
    if (names.length > 1) throw taskConflict(taskId, names);
    return this.read(this.index.fileOf(names[0] as string));
  }

  /** Synchronous, as in a list: one small file, where an async read waits for five hand-offs to libuv's threads. */
  async read(file: string): Promise<StoredTask> {
    const { parseTask } = await taskParser();
    let bytes: Buffer;
    try {
      bytes = readTaskBytes(file);
    } catch (error) {
      throw readRefusal(file, error);
    }
    return parseTask(file, bytes);
  }

  /**
   * Writes a new task file; refuses a task_id that is already in use. Exclusive on the id: the check
   * and the write are made under the id's own claim lock (`idLockOf`), so of two submits of one id,
   * from any mix of processes, libraries and CLIs, one writes and the other is refused.
   */
  async create(raw: Record<string, unknown>, announce: (stored: StoredTask) => Promise<void> = async () => undefined): Promise<StoredTask> {
    const task = (await taskParser()).validateTask(raw, "new task");
    const file = this.index.fileOf(taskFileName(task));
    const stored = await this.withClaimLock(this.idLockOf(task.task_id), async (held) => {
      const existing = (await this.index.taskFileNames()).find((name) => taskIdFromFileName(name) === task.task_id);
      if (existing) {
        throw new SophiaError("task_conflict", `task id "${task.task_id}" is already used by ${existing}; choose another --id`, { details: { task_id: task.task_id } });
      }
      this.index.dropEntry(file);
      // Its run lease, held (a fresh folder) until it is announced: a runner waits for it, and one
      // that finds it stale (the submitting process was killed before the event) writes the event.
      await mkdir(leasePath(file));
      held.writeFenced(file, serialize(raw));
      return { file, raw, task };
    });
    try {
      await announce(stored);
    } finally {
      await rm(leasePath(file), { recursive: true, force: true });
    }
    return stored;
  }

  /** What `create` locks for a task id: a name that is no task file, in the task folder. */
  private idLockOf(taskId: string): string {
    return this.index.fileOf(`.sophia-id-${taskId}`);
  }

  /**
   * Removes a task file that `create` just wrote, if no runner has claimed it yet: how `submit`
   * takes back a task whose `task.created` event could not be written.
   */
  async discardUnclaimed(file: string): Promise<void> {
    await this.withClaimLock(file, async () => {
      const current = await this.read(file);
      this.index.dropEntry(file);
      if (current.task.status === "queued" && current.task.attempts === 0) await rm(file, { force: true });
    });
  }

  /**
   * Deletes a finished task's file (done, failed or canceled), under the claim lock, so that a retry
   * or a claim at the same moment either comes first (and the task is refused as unfinished) or
   * finds no file. Returns the task as it was.
   */
  async remove(file: string): Promise<StoredTask> {
    return this.withClaimLock(file, async () => {
      const current = await this.read(file);
      if (!isFinished(current.task.status)) {
        throw new SophiaError("transition_refused", `task ${current.task.task_id} is ${current.task.status}: only a done, failed or canceled task can be removed (cancel it first)`, {
          details: { task_id: current.task.task_id, status: current.task.status },
        });
      }
      this.index.dropEntry(file);
      await rm(file, { force: true });
      return current;
    });
  }

  /**
   * Moves a task along one edge of the lifecycle, under the claim lock. `change` sees the task as it
   * is on disk now and returns the fields to set besides `status`; it may throw to veto the change.
   * A claim writes a new run token (`run_token`, never cleared), which the claiming runner passes
   * back as `run` with every later write of its run: the write is then made only while the file
   * still names that run and the task is still running; otherwise it throws `canceled` (the user
   * canceled this run) or `superseded` (another runner took the task over, whatever it did since:
   * it may be running, done, failed or canceled).
   */
  async transition(file: string, name: TransitionName, change: (task: Task) => Record<string, unknown> = () => ({}), options: { run?: string } = {}): Promise<StoredTask> {
    return this.withClaimLock(file, async (held) => {
      const current = await this.read(file);
      if (options.run !== undefined) assertOwnRun(current.task, options.run);
      return this.write(held, await this.changed(current, name, change));
    });
  }

  /**
   * Takes a running task from a runner that is gone: back to the queue (`recover`), or to `failed`
   * (`abandon`) once it has died too often; only while the task file still names the dead runner's
   * run (`run`, as runOf read it), else `transition_refused`. `change` returns the fields to set.
   *
   * A runner whose process is gone leaves a lease that stays fresh for up to LEASE_STALE_MS and
   * would block the next claim that long, so it is removed; only once the run is confirmed, because
   * nobody else can hold the lease then (a fresh lease is never taken over, and claims wait for our
   * lock). A stale lease is left: the next claim takes it over, and another runner may have done so already.
   */
  async recover(file: string, name: "recover" | "abandon", dead: DeadRunner, run: string, change: (task: Task) => Record<string, unknown>): Promise<StoredTask> {
    return this.withClaimLock(file, async (held) => {
      const current = await this.read(file);
      if (runOf(current.task) !== run) {
        throw new SophiaError("transition_refused", `task ${current.task.task_id} changed while being recovered`, { details: { task_id: current.task.task_id } });
      }
      const recovered = await this.changed(current, name, change);
      if (dead === "process_gone") await rm(leasePath(file), { recursive: true, force: true });
      return this.write(held, recovered);
    });
  }

  /**
   * Takes the task's run lease, or returns null when a live runner holds it. `onLost` is called if
   * the lease is taken over while held (this process was frozen past LEASE_STALE_MS). The lease is
   * refreshed by the lease keeper's thread, which the main thread's work cannot delay.
   */
  async acquireLease(file: string, onLost: (error: Error) => void): Promise<Lease | null> {
    return leaseKeeper.acquire(leaseTarget(file), leasePath(file), { staleMs: LEASE_STALE_MS, refreshMs: LEASE_REFRESH_MS }, onLost).catch((error: unknown) => {
      throw writeFailure(error, `take the run lease ${leasePath(file)}`);
    });
  }

  /** True while some runner holds a fresh run lease on the task. */
  async leaseHeld(file: string): Promise<boolean> {
    return (await lockfile()).check(leaseTarget(file), { lockfilePath: leasePath(file), realpath: false, stale: LEASE_STALE_MS });
  }

  /**
   * Clears what dead processes left beside a task file that no runner is running: a claim lock past
   * its stale time (taken over by taking it) and the folders of claims killed half-way, the temporary
   * files of task-file writes killed before their rename (no writer can be active while we hold the
   * claim lock), and the run lease when `leaseDead` says its holder is gone. Returns the task as it
   * is on disk, and whether the lease went.
   */
  async sweep(file: string, leaseDead: (task: Task, leaseFresh: boolean, leaseStaleAt: number) => boolean): Promise<{ task: Task; leaseRemoved: boolean }> {
    return this.withClaimLock(file, async () => {
      const { task } = await this.read(file);
      await removeAbandonedTemps(file, 0);
      removeAbandonedClaimFolders(file);
      const staleAt = await this.leaseStaleAt(file);
      const leaseRemoved = staleAt !== null && leaseDead(task, await this.leaseHeld(file), staleAt);
      if (leaseRemoved) await rm(leasePath(file), { recursive: true, force: true });
      return { task, leaseRemoved };
    });
  }

  /** When the task's run lease goes stale unless its holder refreshes it (epoch ms); null when there is none. */
  async leaseStaleAt(file: string): Promise<number | null> {
    const info = await stat(leasePath(file)).catch(() => null);
    return info ? info.mtimeMs + LEASE_STALE_MS : null;
  }

  /** The task as `name` and `change` would leave `current` (as read under the claim lock); nothing written. A claim writes a new run token. */
  private async changed(current: StoredTask, name: TransitionName, change: (task: Task) => Record<string, unknown>): Promise<StoredTask> {
    assertTransition(name, current.task.task_id, current.task.status);
    const raw = { ...current.raw, ...change(current.task), status: TRANSITIONS[name].to, ...(name === "claim" ? { run_token: randomBytes(12).toString("hex") } : {}) };
    return { file: current.file, raw, task: (await taskParser()).validateTask(raw, current.file) };
  }

  /** Under the claim lock: a fenced write, which fails (ClaimLost) if the lock was taken over. */
  private async write(held: HeldClaim, stored: StoredTask): Promise<StoredTask> {
    this.index.dropEntry(stored.file);
    held.writeFenced(stored.file, serialize(stored.raw));
    return stored;
  }

  /**
   * Runs `body` under the claim lock of `file`. A body whose write found the lock taken over (this
   * process was frozen past the lock's stale time) runs again from the start, under the lock taken
   * anew: it reads the file as the other process left it.
   */
  private async withClaimLock<T>(file: string, body: (held: HeldClaim) => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await withClaim(file, body);
      } catch (error) {
        if (error instanceof ClaimLost && tries < 3) continue;
        if (error instanceof ClaimBusy) {
          throw new SophiaError("task_busy", `task file ${path.basename(file)} stayed locked by another process; try again`, { cause: error });
        }
        throw writeFailure(error, `write ${file}`);
      }
    }
  }

}

/**
 * Pretty-printed, for people who open the file, unless indentation would take it past what a
 * reader takes: then compactly (the task's own fields were checked at that size, parse_task.ts).
 */
function serialize(raw: Record<string, unknown>): string {
  const pretty = `${JSON.stringify(raw, null, 2)}\n`;
  return pretty.length <= TASK_FILE_READ_MAX_BYTES / 3 || Buffer.byteLength(pretty) <= TASK_FILE_READ_MAX_BYTES ? pretty : `${JSON.stringify(raw)}\n`;
}

// proper-lockfile keys its bookkeeping by target path, so the lease needs a target of its own.
function leaseTarget(file: string): string {
  return `${file}.run`;
}
function leasePath(file: string): string {
  return `${file}.lease`;
}

/** A write made for a run: refused unless the task file still names that run, running. */
function assertOwnRun(current: Task, run: string): void {
  const id = current.task_id;
  const ownership = runOwnership(current, run);
  if (ownership === "canceled") throw new SophiaError("canceled", `task ${id} was canceled`, { details: { task_id: id } });
  if (ownership === "superseded") throw new SophiaError("superseded", `task ${id} was taken over by another runner`, { details: { task_id: id } });
}
