/**
 * The task folder as a pass sees it, read as little as possible: the listing, each file's entry
 * kept by its stamp (stamp_cache.ts) and the finished tasks' summaries kept on disk
 * (summary_file.ts), and which task files declare an output of a given name (output_index.ts), for
 * the start and submit checks (`outputClaimants`). The store (store.ts) owns it: every write the
 * store makes drops that file's entry (`dropEntry`), so what the index hands out is never older
 * than the store's own last write; a claim never trusts it and re-reads under the claim lock.
 */
import { statSync, type Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { SophiaError, asError, isSophiaError } from "../../errors.js";
import type { StoredTask, TaskEntry } from "../model/stored_task.js";
import { TASK_FILE_SUFFIX, isTaskFileName, taskIdFromFileName } from "../model/task_file_name.js";
import { realPath, type Workspace } from "../model/workspace.js";
import { OutputIndex } from "./output_index.js";
import { rawOfFile, readRefusal, readTaskBytes, taskParser } from "./read_task_file.js";
import { FULL_CHECK_MS, StampCache, stampOf } from "./stamp_cache.js";
import { SAVE_INTERVAL_MS, SavedTask, TASK_CACHE_FILE, readSummaryFile, summaryOfTask, writeSummaryFile, type TaskSummary } from "./summary_file.js";

const FINISHED: readonly string[] = ["done", "failed", "canceled"];

/** What `list` shows of a stored task; for one taken from the task cache file, without parsing it. */
export function summaryOf(stored: StoredTask): TaskSummary {
  return stored instanceof SavedTask ? stored.summary : summaryOfTask(stored.task);
}

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

export class FolderIndex {
  private readonly cache: StampCache<TaskEntry>;
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


  /** `now` only for tests of the cache's clock rules; `taskCache` false (bench:queue) keeps nothing between passes. */
  constructor(
    private readonly workspace: Workspace,
    private readonly now: () => number = Date.now,
    taskCache = true,
  ) {
    this.cache = new StampCache<TaskEntry>(taskCache);
    this.outputs = new OutputIndex(workspace);
    this.cacheFile = path.join(workspace.tasksDir, TASK_CACHE_FILE);
  }

  /**
   * Every task file, valid or not, in name order (oldest timestamp first). Files unchanged since the
   * last call come from the cache (stamp_cache.ts); a claim never does: it re-reads under the lock.
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
      const trustedValue = cached && StampCache.isTrusted(cached) ? cached.value : undefined;
      known[i] = this.knownEntry(name, trustedValue, trustNow);
      if (trustedValue !== undefined && known[i] === trustedValue) trusted[i] = 1;
    }
    // The same names as the last pass, which dropped the absent ones: none can be absent. Otherwise
    // the count tells (a full check looked nothing up: the drop then compares the names themselves).
    if (!same) this.cache.keepOnly(taskNames, fullCheck ? undefined : present);
    const toRead = known.filter((entry): entry is Unread => "unread" in entry);
    if (toRead.length > 0) {
      const { parseTask } = await taskParser();
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
    const { parseTask } = await taskParser();
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
    readSummaryFile(this.cacheFile, ({ name, stamp, summary, json }) => {
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
    await writeSummaryFile(this.cacheFile, entries).catch(() => undefined);
  }

  /** The watcher saw the file change: the next `list` and the next start check read it whatever its stamp says. */
  forget(file: string): void {
    const name = path.basename(file);
    this.named.add(name);
    this.cache.forget(name);
  }

  /** The store wrote the file: the next pass reads it again. */
  dropEntry(file: string): void {
    this.cache.forget(path.basename(file));
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

  async taskFileNames(): Promise<string[]> {
    return (await this.folderNames()).filter(isTaskFileName).sort();
  }

  /** The path of a file named in a listing of the task folder: path.join, without its cost on each of ten thousand names. */
  fileOf(name: string): string {
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
