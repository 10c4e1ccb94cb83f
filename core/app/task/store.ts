/**
 * TaskStore: the only reader and writer of task files and their locks.
 *
 * Files: `tasks/{timestamp}_{task_id}.task.json`. Beside each, while in use:
 *  - `<file>.lock`  the claim lock, held for the few milliseconds of a read-modify-write;
 *  - `<file>.lease` the run lease, held by the runner for as long as it executes the task.
 * Both are proper-lockfile locks: a directory made with mkdir (atomic on every filesystem, NFS
 * included) whose mtime the holder refreshes; one whose mtime is older than its stale time is
 * taken over, so a lock left by a dead process blocks nobody for long.
 *
 * Every write goes through writeFileAtomically and starts from the file as it is on disk under the
 * claim lock, so concurrent writers (runners, `cancel`, `retry`) never lose each other's changes.
 */
import { statSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { removeAbandonedTemps, writeFileAtomically } from "../atomic_write.js";
import { writeFailure } from "../fs_errors.js";
import { ReadRefused, readBoundedFile, readBoundedFileSync } from "../bounded_read.js";
import { SophiaError, asError, describeIssues, isSophiaError } from "../errors.js";
import { TRANSITIONS, assertTransition, type TransitionName } from "./lifecycle.js";
import { TaskSchema, type Task } from "./schema.js";
import { leaseKeeper, type Lease } from "./lease_keeper.js";
import { TaskFileCache, stampOf, type SavedEntry } from "./task_file_cache.js";
import { SAVE_INTERVAL_MS, TASK_CACHE_FILE, readTaskCacheFile, writeTaskCacheFile } from "./task_cache_file.js";
import { OutputIndex } from "./output_index.js";
import { realPath, type Workspace } from "./workspace.js";

const TASK_FILE_SUFFIX = ".task.json";
const FINISHED: readonly string[] = ["done", "failed", "canceled"];
/**
 * A task file is about 1 KB; 1 MiB leaves the app room for fields of its own while a runner that
 * reads every task file on every pass stays fast and small whatever lands in the folder.
 */
export const TASK_FILE_MAX_BYTES = 1024 * 1024;
/**
 * JSON.parse takes any depth, but writing the task back (JSON.stringify) recurses and overflows the
 * stack near ten thousand levels; no task needs more than a handful.
 */
export const TASK_FILE_MAX_DEPTH = 64;
/** `{timestamp}_{task_id}`: the timestamp has no `_`, so the first `_` ends it. */
const TASK_FILE_NAME = /^(\d{8}(?:T?\d{4,6}(?:\d{3})?Z?)?)_(.+)\.task\.json$/;

const CLAIM_LOCK = {
  stale: 5_000,
  retries: { retries: 60, factor: 1.3, minTimeout: 5, maxTimeout: 100, randomize: true },
};
/** A run lease whose holder stopped refreshing it this long ago belongs to a dead (or frozen) runner. */
export const LEASE_STALE_MS = 10_000;
const LEASE_REFRESH_MS = 2_000;

export interface StoredTask {
  /** Absolute path of the task file. */
  file: string;
  /** The file as parsed JSON, unknown fields included: what the store writes back. */
  raw: Record<string, unknown>;
  /** The validated view of `raw`. */
  task: Task;
}

/** How a running task's runner is gone, when it is: the task is then recovered (`recover`). */
export type DeadRunner =
  /** Its process no longer exists on this host, and its lease is still fresh. */
  | "process_gone"
  /** Nobody has refreshed its lease for LEASE_STALE_MS: dead or frozen, on any host. */
  | "lease_stale";

export type TaskEntry =
  | { ok: true; file: string; stored: StoredTask }
  | { ok: false; file: string; idFromName: string; error: SophiaError };

export class TaskStore {
  // Off only for bench/queue.bench.ts, which measures what the cache saves.
  private readonly cache = new TaskFileCache<TaskEntry>(process.env.SOPHIA_TASK_CACHE !== "off");
  private readonly outputs: OutputIndex;
  private readonly cacheFile: string;
  private cacheFileRead = false;
  private cacheFileSavedAt = -Infinity;

  /** `now` only for tests of the cache's clock rules. */
  constructor(
    readonly workspace: Workspace,
    private readonly now: () => number = Date.now,
  ) {
    this.outputs = new OutputIndex(workspace);
    this.cacheFile = path.join(workspace.tasksDir, TASK_CACHE_FILE);
  }

  /**
   * Every task file, valid or not, in name order (oldest timestamp first). Files unchanged since the
   * last call come from the cache (task_file_cache.ts); a claim never does: it re-reads under the lock.
   */
  async list(options: { trust?: "finished" | "done" } = {}): Promise<TaskEntry[]> {
    return this.entriesOf((await this.folderNames()).filter(isTaskFileName).sort(), options.trust ?? "finished");
  }

  /** `list` and `filesWithLeftovers` from one listing of the folder: a scheduler's scan needs both. */
  async listWithLeftovers(): Promise<{ entries: TaskEntry[]; leftovers: Set<string> }> {
    const names = await this.folderNames();
    return { entries: await this.entriesOf(names.filter(isTaskFileName).sort(), "finished"), leftovers: this.leftoversAmong(names) };
  }

  private async entriesOf(taskNames: string[], trust: "finished" | "done"): Promise<TaskEntry[]> {
    if (!this.cacheFileRead) this.readCacheFile();
    const fullCheck = this.cache.beginPass(this.now());
    this.cache.keepOnly(taskNames);
    // Synchronous on purpose: one small stat (and, for a changed file, one small read) each, which
    // on a loaded machine cost far less than five hand-offs to libuv's threads per file.
    const entries = taskNames.map((name) => this.entryOf(name, fullCheck, trust));
    await this.saveCacheFile();
    return entries;
  }

  /**
   * The tasks that declare one of `realOutputs` (real paths) as an output, in name order, from a
   * list made for the purpose: a `done` task is trusted between full checks (a done task never
   * changes status again), every other file is stamped, so a `retry` from another process, then a
   * start there, is never missed. What they own is for the caller to judge (output_owners.ts).
   */
  async outputClaimants(realOutputs: readonly string[]): Promise<StoredTask[]> {
    this.outputs.update(await this.list({ trust: "done" }));
    const realFolders = new Map<string, string>();
    const realFolder = (folder: string): string => {
      const known = realFolders.get(folder);
      if (known !== undefined) return known;
      const real = realPath(folder);
      realFolders.set(folder, real);
      return real;
    };
    const found = new Map<string, StoredTask>();
    for (const real of realOutputs) {
      for (const stored of this.outputs.claimants(path.basename(real), path.dirname(real), realFolder)) found.set(stored.file, stored);
    }
    return [...found.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  private entryOf(name: string, fullCheck: boolean, trust: "finished" | "done"): TaskEntry {
    const known = fullCheck ? undefined : this.cache.finished(name);
    if (known && (trust === "finished" || (known.ok && known.stored.task.status === "done"))) return known;
    const file = path.join(this.workspace.tasksDir, name);
    const stampedAt = this.now();
    const info = statSync(file, { bigint: true, throwIfNoEntry: false });
    const cached = info ? this.cache.get(name, stampOf(info)) : undefined;
    if (cached) return cached;
    let entry: TaskEntry;
    try {
      entry = { ok: true, file, stored: parseTask(file, readBoundedFileSync(file, TASK_FILE_MAX_BYTES)) };
    } catch (error) {
      const refusal = readRefusal(file, error);
      const sophiaError = refusal instanceof SophiaError ? refusal : new SophiaError("task_invalid", asError(refusal).message, { cause: refusal });
      entry = { ok: false, file, idFromName: taskIdFromFileName(name), error: sophiaError };
    }
    // Stamped before the read: a change after the stamp shows as a new stamp on the next pass.
    if (info && !(!entry.ok && isSophiaError(entry.error, "task_not_found"))) {
      this.cache.set(name, info, stampedAt, entry, entry.ok && FINISHED.includes(entry.stored.task.status));
    }
    return entry;
  }

  private readCacheFile(): void {
    this.cacheFileRead = true;
    this.cache.load(
      readTaskCacheFile(this.cacheFile).flatMap(({ name, stamp, raw }): SavedEntry<TaskEntry>[] => {
        // As the store wrote it: a finished task, validated then; the schema's output is its input.
        if (!isTaskFileName(name) || raw.task_id !== taskIdFromFileName(name) || !FINISHED.includes(raw.status as string)) return [];
        const file = path.join(this.workspace.tasksDir, name);
        return [{ name, stamp, value: { ok: true, file, stored: { file, raw, task: raw as Task } } }];
      }),
    );
  }

  private async saveCacheFile(): Promise<void> {
    const now = this.now();
    if (now - this.cacheFileSavedAt < SAVE_INTERVAL_MS) return;
    const saved = this.cache.toSave();
    if (!saved) return;
    this.cacheFileSavedAt = now;
    const entries = saved.flatMap(({ name, stamp, value }) => (value.ok ? [{ name, stamp, raw: value.stored.raw }] : []));
    // A cache: a workspace it cannot be written in (read-only, full) only goes without it.
    await writeTaskCacheFile(this.cacheFile, entries).catch(() => undefined);
  }

  /** The watcher saw the file change: the next `list` reads it whatever its stamp says. */
  forget(file: string): void {
    this.cache.forget(path.basename(file));
  }

  async find(taskId: string): Promise<StoredTask> {
    const names = (await this.taskFileNames()).filter((name) => taskIdFromFileName(name) === taskId);
    if (names.length === 0) {
      throw new SophiaError("task_not_found", `no task "${taskId}" in ${this.workspace.tasksDir} (\`sophia-cli list\` shows the tasks there)`, {
        details: { task_id: taskId },
      });
    }
    if (names.length > 1) throw taskConflict(taskId, names);
    return this.read(path.join(this.workspace.tasksDir, names[0] as string));
  }

  async read(file: string): Promise<StoredTask> {
    return parseTask(file, await readTaskBytes(file, readBoundedFile));
  }

  /** Writes a new task file; refuses a task_id that is already in use. */
  async create(raw: Record<string, unknown>): Promise<StoredTask> {
    const task = validateTask(raw, "new task");
    const existing = (await this.taskFileNames()).find((name) => taskIdFromFileName(name) === task.task_id);
    if (existing) {
      throw new SophiaError("task_conflict", `task id "${task.task_id}" is already used by ${existing}; choose another --id`, { details: { task_id: task.task_id } });
    }
    const file = path.join(this.workspace.tasksDir, taskFileName(task));
    this.forget(file);
    await writeFileAtomically(file, serialize(raw));
    return { file, raw, task };
  }

  /**
   * Removes a task file that `create` just wrote, if no runner has claimed it yet: how `submit`
   * takes back a task whose `task.created` event could not be written.
   */
  async discardUnclaimed(file: string): Promise<void> {
    await this.withClaimLock(file, async () => {
      const current = await this.read(file);
      this.forget(file);
      if (current.task.status === "queued" && current.task.attempts === 0) await rm(file, { force: true });
    });
  }

  /**
   * Moves a task along one edge of the lifecycle, under the claim lock. `change` sees the task as it
   * is on disk now and returns the fields to set besides `status`; it may throw to veto the change.
   * `guard` sees it first, before the lifecycle is checked: a runner uses it to learn that the task
   * is no longer its own, whatever status it has now.
   */
  async transition(
    file: string,
    name: TransitionName,
    change: (task: Task) => Record<string, unknown> = () => ({}),
    options: { guard?: (task: Task) => void } = {},
  ): Promise<StoredTask> {
    return this.withClaimLock(file, async () => this.write(await this.changed(file, name, change, options.guard)));
  }

  /**
   * Takes a running task from a runner that is gone: back to the queue (`recover`), or to `failed`
   * (`abandon`) once it has died too often. `change` confirms, under the claim lock, that the task
   * still shows the dead runner's run (it throws if not), and returns the fields to set.
   *
   * A runner whose process is gone leaves a lease that stays fresh for up to LEASE_STALE_MS and
   * would block the next claim that long, so it is removed; only once `change` has confirmed the
   * run, because nobody else can hold the lease then (a fresh lease is never taken over, and
   * claims wait for our lock). A stale lease is left: the next claim takes it over, and another
   * runner may have done so already.
   */
  async recover(file: string, name: "recover" | "abandon", dead: DeadRunner, change: (task: Task) => Record<string, unknown>): Promise<StoredTask> {
    return this.withClaimLock(file, async () => {
      const recovered = await this.changed(file, name, change);
      if (dead === "process_gone") await rm(leasePath(file), { recursive: true, force: true });
      return this.write(recovered);
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
    return lockfile.check(leaseTarget(file), { lockfilePath: leasePath(file), realpath: false, stale: LEASE_STALE_MS });
  }

  /**
   * Clears what dead processes left beside a task file that no runner is running: a claim lock past
   * its stale time (taken over by taking it), the temporary files of task-file writes killed before
   * their rename (no writer can be active while we hold the claim lock), and the run lease when
   * `leaseDead` says its holder is gone. Returns the task as it is on disk, and whether the lease went.
   */
  async sweep(file: string, leaseDead: (task: Task, leaseFresh: boolean, leaseStaleAt: number) => boolean): Promise<{ task: Task; leaseRemoved: boolean }> {
    return this.withClaimLock(file, async () => {
      const { task } = await this.read(file);
      await removeAbandonedTemps(file, 0);
      const staleAt = await this.leaseStaleAt(file);
      const leaseRemoved = staleAt !== null && leaseDead(task, await this.leaseHeld(file), staleAt);
      if (leaseRemoved) await rm(leasePath(file), { recursive: true, force: true });
      return { task, leaseRemoved };
    });
  }

  /** The task files that have something beside them: a lease, a claim lock, a temporary file. */
  async filesWithLeftovers(): Promise<Set<string>> {
    return this.leftoversAmong(await this.folderNames().catch(() => [] as string[]));
  }

  private leftoversAmong(names: readonly string[]): Set<string> {
    const taskFiles = new Set(names.filter((name) => name.endsWith(TASK_FILE_SUFFIX)));
    const withLeftovers = new Set<string>();
    for (const name of names) {
      const cut = name.indexOf(`${TASK_FILE_SUFFIX}.`);
      const owner = cut < 0 ? null : name.slice(0, cut + TASK_FILE_SUFFIX.length);
      if (owner && taskFiles.has(owner)) withLeftovers.add(path.join(this.workspace.tasksDir, owner));
    }
    return withLeftovers;
  }

  /** When the task's run lease goes stale unless its holder refreshes it (epoch ms); null when there is none. */
  async leaseStaleAt(file: string): Promise<number | null> {
    const info = await stat(leasePath(file)).catch(() => null);
    return info ? info.mtimeMs + LEASE_STALE_MS : null;
  }

  /** The task as `name` and `change` would leave it, from the file as it is on disk now; nothing written. Under the claim lock. */
  private async changed(file: string, name: TransitionName, change: (task: Task) => Record<string, unknown>, guard?: (task: Task) => void): Promise<StoredTask> {
    const current = await this.read(file);
    guard?.(current.task);
    assertTransition(name, current.task.task_id, current.task.status);
    const raw = { ...current.raw, ...change(current.task), status: TRANSITIONS[name].to };
    return { file, raw, task: validateTask(raw, file) };
  }

  /** Under the claim lock. */
  private async write(stored: StoredTask): Promise<StoredTask> {
    this.forget(stored.file);
    await writeFileAtomically(stored.file, serialize(stored.raw));
    return stored;
  }

  private async withClaimLock<T>(file: string, body: () => Promise<T>): Promise<T> {
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(file, {
        ...CLAIM_LOCK,
        lockfilePath: `${file}.lock`,
        realpath: false,
        // Held for milliseconds; if it is ever taken over, the write that follows is still atomic.
        onCompromised: () => undefined,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
        throw new SophiaError("task_busy", `task file ${path.basename(file)} stayed locked by another process; try again`, { cause: error });
      }
      throw writeFailure(error, `lock ${file}`);
    }
    try {
      return await body();
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async taskFileNames(): Promise<string[]> {
    return (await this.folderNames()).filter(isTaskFileName).sort();
  }

  /** Everything in the task folder: task files, their locks and leases, temporary files. */
  private async folderNames(): Promise<string[]> {
    return readdir(this.workspace.tasksDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
  }
}

/** Two or more task files announce one task_id: the runner starts none of them. */
export function taskConflict(taskId: string, names: readonly string[]): SophiaError {
  return new SophiaError("task_conflict", `task id "${taskId}" is used by ${names.length} files: ${names.join(", ")}; rename or remove all but one`, {
    details: { task_id: taskId, files: names },
  });
}

/** Whether a file in tasks/ is a task file (the app's temporary names and the locks are not). */
export function isTaskFileName(name: string): boolean {
  return name.endsWith(TASK_FILE_SUFFIX);
}

export function taskFileName(task: Pick<Task, "created_at" | "task_id">): string {
  const stamp = new Date(task.created_at).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}_${task.task_id}${TASK_FILE_SUFFIX}`;
}

/** The task_id a file name announces; a name without the `{timestamp}_` prefix is all id. */
export function taskIdFromFileName(name: string): string {
  const match = TASK_FILE_NAME.exec(name);
  return match ? (match[2] as string) : name.slice(0, -TASK_FILE_SUFFIX.length);
}

/** The schema check every task file passes, with the field at fault named; `where` is the file (or "new task"). */
export function validateTask(raw: unknown, where: string): Task {
  const result = TaskSchema.safeParse(raw);
  if (!result.success) {
    const problems = describeIssues(result.error);
    throw new SophiaError("task_invalid", `${path.basename(where)} does not match the task schema: ${problems}`, {
      details: { file: where, issues: result.error.issues },
    });
  }
  const fileId = where.endsWith(TASK_FILE_SUFFIX) ? taskIdFromFileName(path.basename(where)) : result.data.task_id;
  if (fileId !== result.data.task_id) {
    throw new SophiaError("task_invalid", `${path.basename(where)} names task "${fileId}" but its task_id is "${result.data.task_id}"`, { details: { file: where } });
  }
  return result.data;
}

/** Without recursion, so that the check itself cannot overflow the stack. */
function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== "object") continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The task in a task file's bytes: UTF-8, JSON, not too deep, and the schema. */
function parseTask(file: string, bytes: Buffer): StoredTask {
  const text = decodeTaskText(file, bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the fault, newlines included: one line for the user.
    const reason = asError(error).message.replace(/\s+/g, " ");
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not valid JSON: ${reason}`, { cause: error, details: { file } });
  }
  if (nestsDeeperThan(raw, TASK_FILE_MAX_DEPTH)) {
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} nests objects or arrays deeper than ${TASK_FILE_MAX_DEPTH} levels`, { details: { file } });
  }
  return { file, raw: raw as Record<string, unknown>, task: validateTask(raw, file) };
}

async function readTaskBytes(file: string, readBounded: (file: string, maxBytes: number) => Buffer | Promise<Buffer>): Promise<Buffer> {
  try {
    return await readBounded(file, TASK_FILE_MAX_BYTES);
  } catch (error) {
    throw readRefusal(file, error);
  }
}

function readRefusal(file: string, error: unknown): unknown {
  if (!(error instanceof ReadRefused)) return error;
  if (error.problem === "missing") return new SophiaError("task_not_found", `task file ${file} does not exist`, { cause: error });
  return new SophiaError("task_invalid", `task file ${path.basename(file)} ${error.message}`, { cause: error, details: { file } });
}

function decodeTaskText(file: string, bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not UTF-8 text: JSON files are UTF-8`, { cause: error, details: { file } });
  }
}

function serialize(raw: Record<string, unknown>): string {
  return `${JSON.stringify(raw, null, 2)}\n`;
}

// proper-lockfile keys its bookkeeping by target path, so the lease needs a target of its own.
function leaseTarget(file: string): string {
  return `${file}.run`;
}
function leasePath(file: string): string {
  return `${file}.lease`;
}

