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
 * here, where the file is written, not by the caller.
 */
import { statSync, type Stats } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { removeAbandonedTemps } from "../../atomic_write.js";
import { writeFailure } from "../../fs_errors.js";
import { ReadRefused, formatBytes, readBoundedFileSync } from "../../bounded_read.js";
import { SophiaError, asError, isSophiaError } from "../../errors.js";
import { TRANSITIONS, assertTransition, runOf, runOwnership, type TransitionName } from "../model/lifecycle.js";
import type { Task } from "../model/schema.js";
import { taskConflict, type StoredTask, type TaskEntry } from "../model/stored_task.js";
import { leaseKeeper, type Lease } from "./lease_keeper.js";
import { ClaimBusy, ClaimLost, removeAbandonedClaimFolders, withClaim, type HeldClaim } from "./claim_lock.js";
import { TASK_FILE_SUFFIX, isTaskFileName, taskFileName, taskIdFromFileName } from "../model/task_file_name.js";
import { FULL_CHECK_MS, TaskFileCache, stampOf } from "./stamp_cache.js";
import { SAVE_INTERVAL_MS, SavedTask, TASK_CACHE_FILE, readTaskCacheFile, summaryOfTask, writeTaskCacheFile, type TaskSummary } from "./summary_file.js";
import { OutputIndex } from "./output_index.js";
import { RUNNER_FIELDS_MAX_BYTES, TASK_FILE_MAX_BYTES, TASK_FILE_READ_MAX_BYTES } from "../model/task_file_limits.js";
import { realPath, type Workspace } from "../model/workspace.js";

export { isTaskFileName, taskFileName, taskIdFromFileName } from "../model/task_file_name.js";

const FINISHED: readonly string[] = ["done", "failed", "canceled"];

// Loaded on first use: a `list` served by the task cache reads no file (so needs no zod) and takes no lock.
let validationModule: Promise<typeof import("./parse_task.js")> | null = null;
const validation = () => (validationModule ??= import("./parse_task.js"));
let lockfileModule: Promise<typeof import("proper-lockfile")> | null = null;
const lockfile = () => (lockfileModule ??= import("proper-lockfile"));
export { TASK_FILE_MAX_BYTES } from "../model/task_file_limits.js";

/** A run lease whose holder stopped refreshing it this long ago belongs to a dead (or frozen) runner. */
export const LEASE_STALE_MS = 10_000;
const LEASE_REFRESH_MS = 2_000;

/** What `list` shows of a stored task; for one taken from the task cache file, without parsing it. */
export function summaryOf(stored: StoredTask): TaskSummary {
  return stored instanceof SavedTask ? stored.summary : summaryOfTask(stored.task);
}

/** How a running task's runner is gone, when it is: the task is then recovered (`recover`). */
export type DeadRunner =
  /** Its process no longer exists on this host, and its lease is still fresh. */
  | "process_gone"
  /** Nobody has refreshed its lease for LEASE_STALE_MS: dead or frozen, on any host. */
  | "lease_stale";

/** A task file the cache cannot answer for: stamped (`info`, at `stampedAt`), to be read. */
interface Unread {
  unread: true;
  name: string;
  file: string;
  info: Stats | undefined;
  stampedAt: number;
  entry?: TaskEntry;
}

/** A listing of the folder whose every task file a pass looked up. */
interface Listing {
  at: number;
  folder: readonly string[];
  /** The task files a run lease sits beside. */
  leased: readonly string[];
  /** `folder` as a set, made when first needed. */
  names: Set<string> | null;
}

export class TaskStore {
  // Off only for bench/queue.bench.ts, which measures what the cache saves.
  private readonly cache = new TaskFileCache<TaskEntry>(process.env.SOPHIA_TASK_CACHE !== "off");
  private readonly outputs: OutputIndex;
  private readonly cacheFile: string;
  private cacheFileRead = false;
  /** Every entry read since the output index was last brought in step, by file name: the latest read of each. */
  private readonly indexChanges = new Map<string, TaskEntry>();
  private indexBuilt = false;
  /**
   * The last pass: the names as the folder listed them, each one's entry, and whether it was a
   * trusted finished entry. A folder whose set of names has not changed lists them in the same order
   * (a directory's order changes only when entries are added or removed), so the next pass finds
   * the same name at the same place with a string comparison, cheaper than a look-up, and skips
   * every trusted entry whose cache entry nobody touched since (`takeTouched`).
   */
  private lastPass: { names: readonly string[]; known: readonly TaskEntry[]; trusted: Uint8Array } | null = null;
  private cacheFileSavedAt = -Infinity;
  /** The last listing a pass looked up every task file of (see `outputClaimants`). */
  private listing: Listing | null = null;
  /** Task files the watcher named since the last such listing. */
  private named = new Set<string>();

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
    const listing = await this.listForPass();
    const names = listing.folder.filter(isTaskFileName);
    const entries = await this.entriesOf(names, options.trust ?? "finished");
    this.listed(listing);
    return inNameOrder(names, entries);
  }

  /** `list` and `filesWithLeftovers` from one listing of the folder: a scheduler's scan needs both. */
  async listWithLeftovers(): Promise<{ entries: TaskEntry[]; leftovers: Set<string> }> {
    const listing = await this.listForPass();
    const taskNames = listing.folder.filter(isTaskFileName);
    const entries = await this.entriesOf(taskNames, "finished");
    this.listed(listing);
    return { entries: inNameOrder(taskNames, entries), leftovers: this.leftoversAmong(listing.folder) };
  }

  /**
   * `taskNames` in the order the folder listed them: a folder unchanged since lists them in the same
   * order (see `lastPass`). `trust`: what is taken from the cache without a stamp between full checks:
   * finished tasks, only `done` ones, or (`stamp`) every file as this process last saw it except the
   * named ones, on a pass over an unchanged folder (the start check, in `outputClaimants`).
   */
  private async entriesOf(taskNames: string[], trust: "finished" | "done" | { stamp: ReadonlySet<string> }): Promise<TaskEntry[]> {
    if (!this.cacheFileRead) this.readCacheFile();
    const fullCheck = this.cache.beginPass(this.now());
    const touched = this.cache.takeTouched();
    const same = this.lastPass !== null && sameNames(taskNames, this.lastPass.names) ? this.lastPass : null;
    const last = fullCheck ? null : same;
    // The positions whose cache entry changed since the last pass: looked up again.
    const changed = last ? positionsOf(last.names, touched) : new Set<number>();
    const only = typeof trust === "object" ? trust.stamp : null;
    const stampAt = only && last ? positionsOf(last.names, only) : null;
    const trustNow = only ? "done" : (trust as "finished" | "done");
    // Synchronous on purpose: one small stat (and, for a changed file, one small read) each, which
    // on a loaded machine cost far less than five hand-offs to libuv's threads per file.
    let present = 0;
    const known: (TaskEntry | Unread)[] = new Array(taskNames.length);
    const trusted = new Uint8Array(taskNames.length);
    for (let i = 0; i < taskNames.length; i++) {
      const before = last?.known[i];
      if (before !== undefined && !changed.has(i)) {
        if (stampAt ? !stampAt.has(i) : last?.trusted[i] === 1 && (trustNow === "finished" || isDoneEntry(before))) {
          // The same name at the same place, trusted then (or, for the start check, not among those
          // it must stamp) and untouched since: no look-up at all.
          known[i] = before;
          trusted[i] = last?.trusted[i] ?? 0;
          continue;
        }
      }
      const name = taskNames[i] as string;
      const cached = fullCheck ? undefined : this.cache.peek(name);
      if (cached) present++;
      const trustedValue = cached && TaskFileCache.isTrusted(cached) ? cached.value : undefined;
      known[i] = this.knownEntry(name, trustedValue, trustNow);
      if (trustedValue !== undefined && known[i] === trustedValue) trusted[i] = 1;
    }
    // The same names as the last pass, which dropped the absent ones: none can be absent. Otherwise
    // the count tells (a full check looked nothing up: the drop then compares the names themselves).
    if (!same) this.cache.keepOnly(taskNames, fullCheck ? undefined : present);
    const toRead = known.filter((entry): entry is Unread => "unread" in entry);
    if (toRead.length > 0) {
      const { parseTask } = await validation();
      for (const unread of toRead) {
        unread.entry = this.readEntry(unread, parseTask);
        this.indexChanges.set(unread.name, unread.entry);
      }
    }
    const entries = known.map((entry) => ("unread" in entry ? (entry.entry as TaskEntry) : entry));
    this.lastPass = { names: taskNames, known: entries, trusted };
    await this.saveCacheFile();
    return entries;
  }

  /**
   * The tasks that declare one of `realOutputs` (real paths) as an output, in name order: a `done`
   * task is trusted between full checks (a done task never changes status again), every file that
   * can matter is stamped, so a `retry` from another process, then a start there, is never missed.
   * What they own is for the caller to judge (output_owners.ts).
   */
  async outputClaimants(realOutputs: readonly string[], when: "start" | "submit"): Promise<StoredTask[]> {
    // Once the index is built, only the files that can matter are stamped: those it names as
    // declaring an output of one of these file names, those with a run lease beside them (a task
    // being claimed or running has one, from before its claim to its final write) and those the
    // watcher named. Any other file is taken as this process last saw it: a queued one does not count
    // at a start, and a file's outputs edited since are seen at the next full check (as a done
    // task's are) or when the watcher names it. The folder is listed again only when the listing the
    // index was last brought in step with is FULL_CHECK_MS old, or the watcher named a file it does
    // not hold: a listing of ten thousand names costs more than the rest of a small task's start.
    // A submit lists the folder every time: it is not in a queue's path, and a task submitted a
    // moment ago elsewhere (queued, so it counts against a submit) must be seen.
    const listing = this.indexBuilt && when === "start" ? this.freshListing() : null;
    if (listing) {
      await this.stampOnly(this.mayClaim(realOutputs, [...listing.leased, ...this.named]));
      this.outputs.apply(this.indexChanges);
      this.indexChanges.clear();
    } else {
      await this.claimantsFromListing(realOutputs);
    }
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

  /** The task files a start check stamps: `also`, and those the index names as declaring one of these outputs' file names. */
  private mayClaim(realOutputs: readonly string[], also: readonly string[]): Set<string> {
    const stamp = new Set(also);
    for (const real of realOutputs) for (const name of this.outputs.declaring(path.basename(real))) stamp.add(name);
    return stamp;
  }

  /** The start check's own list of the folder: every name looked up, the index brought in step with it. */
  private async claimantsFromListing(realOutputs: readonly string[]): Promise<void> {
    const listing = await this.listForPass();
    const { folder, named } = listing;
    const names = folder.filter(isTaskFileName);
    let entries: TaskEntry[];
    if (this.indexBuilt) {
      this.outputs.apply(this.indexChanges);
      this.indexChanges.clear();
      entries = await this.entriesOf(names, { stamp: this.mayClaim(realOutputs, [...leasedAmong(folder), ...named]) });
    } else {
      entries = await this.entriesOf(names, "done");
    }
    // Built from the first such list; then brought in step by the entries read since (every read is
    // logged, whichever pass made it), so the ten thousand others are not looked at.
    if (!this.indexBuilt) this.outputs.update(names, entries);
    this.indexBuilt = true;
    this.outputs.apply(this.indexChanges, names, entries);
    this.indexChanges.clear();
    this.listed(listing);
  }

  /**
   * Lists the folder for a pass that looks up every task file in it, and the names the watcher
   * named before the listing: each was dropped from the cache, so the pass reads it.
   */
  private async listForPass(): Promise<{ folder: string[]; at: number; named: ReadonlySet<string> }> {
    const at = this.now();
    const named = new Set(this.named);
    return { folder: await this.folderNames(), at, named };
  }

  /**
   * A pass has looked up every task file of `folder`, listed at `at`, and the files the watcher
   * named before it: the start check may take that listing as the folder's state for a while.
   */
  private listed({ folder, at, named }: { folder: readonly string[]; at: number; named: ReadonlySet<string> }): void {
    for (const name of named) this.named.delete(name);
    this.listing = { at, leased: leasedAmong(folder), names: null, folder };
  }

  /** The listing the start check may use instead of its own: recent, and holding every file the watcher named since. */
  private freshListing(): Listing | null {
    const listing = this.listing;
    if (!listing || this.now() - listing.at >= FULL_CHECK_MS) return null;
    if (this.named.size === 0) return listing;
    listing.names ??= new Set(listing.folder);
    for (const name of this.named) if (!listing.names.has(name)) return null;
    return listing;
  }

  /** Each named file as it is now (one stat, and a read if it changed): the start check's look at the files that can matter. */
  private async stampOnly(names: ReadonlySet<string>): Promise<void> {
    const toRead: Unread[] = [];
    for (const name of names) {
      const known = this.knownEntry(name, undefined, "done");
      if ("unread" in known) toRead.push(known);
    }
    if (toRead.length === 0) return;
    const { parseTask } = await validation();
    for (const unread of toRead) this.indexChanges.set(unread.name, this.readEntry(unread, parseTask));
  }

  /** The entry the cache holds for the file as it is now, or what is needed to read it. */
  private knownEntry(name: string, known: TaskEntry | undefined, trust: "finished" | "done"): TaskEntry | Unread {
    if (known && (trust === "finished" || isDoneEntry(known))) return known;
    const file = this.fileOf(name);
    const stampedAt = this.now();
    const info = statSync(file, { throwIfNoEntry: false });
    const cached = info ? this.cache.get(name, stampOf(info)) : undefined;
    return cached ?? { unread: true, name, file, info, stampedAt };
  }

  private readEntry({ name, file, info, stampedAt }: Unread, parseTask: (file: string, bytes: Buffer) => StoredTask): TaskEntry {
    let entry: TaskEntry;
    let bytes: Buffer | undefined;
    try {
      bytes = readTaskBytes(file);
      entry = this.cache.sameBytes(name, bytes) ?? { ok: true, file, stored: parseTask(file, bytes) };
    } catch (error) {
      const refusal = readRefusal(file, error);
      const sophiaError = refusal instanceof SophiaError ? refusal : new SophiaError("task_invalid", asError(refusal).message, { cause: refusal });
      entry = { ok: false, file, idFromName: taskIdFromFileName(name), error: sophiaError };
    }
    // Stamped before the read: a change after the stamp shows as a new stamp on the next pass.
    if (info && !(!entry.ok && isSophiaError(entry.error, "task_not_found"))) {
      this.cache.set(name, info, stampedAt, entry, entry.ok && FINISHED.includes(entry.stored.task.status), bytes);
    }
    return entry;
  }

  private readCacheFile(): void {
    this.cacheFileRead = true;
    readTaskCacheFile(this.cacheFile, ({ name, stamp, summary, json }) => {
      // As the store wrote it: a finished task, validated then.
      if (!isTaskFileName(name) || summary.id !== taskIdFromFileName(name) || !FINISHED.includes(summary.status)) return;
      const file = this.fileOf(name);
      this.cache.restore(name, stamp, { ok: true, file, stored: new SavedTask(file, summary, json, () => rawOfFile(file)) });
    });
  }

  private async saveCacheFile(): Promise<void> {
    const now = this.now();
    if (now - this.cacheFileSavedAt < SAVE_INTERVAL_MS) return;
    const saved = this.cache.toSave();
    if (!saved) return;
    this.cacheFileSavedAt = now;
    const entries = saved.flatMap(({ name, stamp, value }) => {
      if (!value.ok) return [];
      const { stored } = value;
      // A task taken from the cache file is written again as it was, unparsed.
      return stored instanceof SavedTask ? [{ name, stamp, summary: stored.summary, json: stored.json }] : [{ name, stamp, summary: summaryOfTask(stored.task), json: JSON.stringify(stored.raw) }];
    });
    // A cache: a workspace it cannot be written in (read-only, full) only goes without it.
    await writeTaskCacheFile(this.cacheFile, entries).catch(() => undefined);
  }

  /** The watcher saw the file change: the next `list` and the next start check read it whatever its stamp says. */
  forget(file: string): void {
    const name = path.basename(file);
    this.named.add(name);
    this.cache.forget(name);
  }

  /** The store's own write: what it wrote is read again by the next pass. */
  private dropEntry(file: string): void {
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
    return this.read(this.fileOf(names[0] as string));
  }

  /** Synchronous, as in a list: one small file, where an async read waits for five hand-offs to libuv's threads. */
  async read(file: string): Promise<StoredTask> {
    const { parseTask } = await validation();
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
    const task = (await validation()).validateTask(raw, "new task");
    const file = this.fileOf(taskFileName(task));
    const stored = await this.withClaimLock(this.idLockOf(task.task_id), async (held) => {
      const existing = (await this.taskFileNames()).find((name) => taskIdFromFileName(name) === task.task_id);
      if (existing) {
        throw new SophiaError("task_conflict", `task id "${task.task_id}" is already used by ${existing}; choose another --id`, { details: { task_id: task.task_id } });
      }
      this.dropEntry(file);
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
    return this.fileOf(`.sophia-id-${taskId}`);
  }

  /**
   * Removes a task file that `create` just wrote, if no runner has claimed it yet: how `submit`
   * takes back a task whose `task.created` event could not be written.
   */
  async discardUnclaimed(file: string): Promise<void> {
    await this.withClaimLock(file, async () => {
      const current = await this.read(file);
      this.dropEntry(file);
      if (current.task.status === "queued" && current.task.attempts === 0) await rm(file, { force: true });
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
      if (owner && taskFiles.has(owner)) withLeftovers.add(this.fileOf(owner));
    }
    return withLeftovers;
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
    return { file: current.file, raw, task: (await validation()).validateTask(raw, current.file) };
  }

  /** Under the claim lock: a fenced write, which fails (ClaimLost) if the lock was taken over. */
  private async write(held: HeldClaim, stored: StoredTask): Promise<StoredTask> {
    this.dropEntry(stored.file);
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

  private async taskFileNames(): Promise<string[]> {
    return (await this.folderNames()).filter(isTaskFileName).sort();
  }

  /** The path of a file named in a listing of the task folder: path.join, without its cost on each of ten thousand names. */
  private fileOf(name: string): string {
    return `${this.workspace.tasksDir}${path.sep}${name}`;
  }

  /** Everything in the task folder: task files, their locks and leases, temporary files. */
  private async folderNames(): Promise<string[]> {
    return readdir(this.workspace.tasksDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
  }
}

/** The task files a run lease sits beside, in a listing of the folder. */
function leasedAmong(folder: readonly string[]): string[] {
  return folder.flatMap((name) => (name.endsWith(LEASE_SUFFIX) ? [name.slice(0, -".lease".length)] : []));
}
const LEASE_SUFFIX = `${TASK_FILE_SUFFIX}.lease`;

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Where in `names` each of `wanted` is. A few (a pass's usual: the files written since the last)
 * are found by comparing strings, which costs less than hashing ten thousand names into a map.
 */
function positionsOf(names: readonly string[], wanted: ReadonlySet<string>): Set<number> {
  const found = new Set<number>();
  if (wanted.size === 0) return found;
  if (wanted.size > 16) {
    names.forEach((name, i) => {
      if (wanted.has(name)) found.add(i);
    });
    return found;
  }
  for (const name of wanted) {
    const at = names.indexOf(name);
    if (at >= 0) found.add(at);
  }
  return found;
}

function isDoneEntry(entry: TaskEntry): boolean {
  return entry.ok && summaryOf(entry.stored).status === "done";
}

/** Entries of a listing in name order (oldest timestamp first), as `list` promises. */
function inNameOrder(names: readonly string[], entries: readonly TaskEntry[]): TaskEntry[] {
  // Many filesystems list a folder of names like these in order already.
  let sorted = true;
  for (let i = 1; i < names.length && sorted; i++) sorted = (names[i - 1] as string) < (names[i] as string);
  if (sorted) return [...entries];
  const order = names.map((_, i) => i).sort((a, b) => ((names[a] as string) < (names[b] as string) ? -1 : (names[a] as string) > (names[b] as string) ? 1 : 0));
  return order.map((i) => entries[i] as TaskEntry);
}

function readTaskBytes(file: string): Buffer {
  return readBoundedFileSync(file, TASK_FILE_READ_MAX_BYTES);
}

/**
 * A task file's JSON, for a cache entry whose own copy is damaged: the file matched the entry's
 * stamp, so it is the file that was validated then (a file that no longer parses is invalid now).
 */
function rawOfFile(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readTaskBytes(file).toString("utf8"));
  } catch (error) {
    if (error instanceof ReadRefused) throw readRefusal(file, error);
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not valid JSON`, { cause: error, details: { file } });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not a JSON object`, { details: { file } });
  return raw as Record<string, unknown>;
}

function readRefusal(file: string, error: unknown): unknown {
  if (!(error instanceof ReadRefused)) return error;
  if (error.problem === "missing") return new SophiaError("task_not_found", `task file ${file} does not exist`, { cause: error });
  const message =
    error.problem === "too_large"
      ? `${error.message.replace(formatBytes(TASK_FILE_READ_MAX_BYTES), formatBytes(TASK_FILE_MAX_BYTES))} (and ${formatBytes(RUNNER_FIELDS_MAX_BYTES)} for the runner's fields)`
      : error.message;
  return new SophiaError("task_invalid", `task file ${path.basename(file)} ${message}`, { cause: error, details: { file } });
}

/**
 * Pretty-printed, for people who open the file, unless indentation would take it past what a
 * reader takes: then compactly (the task's own fields were checked at that size, task_validation.ts).
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
