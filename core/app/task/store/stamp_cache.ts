/**
 * What the store already knows about each task file, so that a scheduler pass reads (and validates)
 * only the files that changed since the last one.
 *
 * An entry is keyed by the file's stamp: device, inode, size, mtime and ctime. An
 * atomic replace gives a new inode; a write in place moves ctime, which no one can set back (utimes
 * sets mtime only). Two writes in place with the same size inside one tick of the filesystem's clock
 * would leave the stamp unchanged, so a file whose ctime is within RACY_MS of the moment it was
 * stamped is not cached at all (git's "racy clean" rule): it is read again on the next pass.
 *
 * A finished task (done, failed, canceled) is not even stamped on every pass: only when FULL_CHECK_MS
 * has passed since the last full check, or when the watcher names the file (`forget`). A finished
 * task is never claimed, so a stale finished status can only delay seeing a `retry` from another
 * process; what is queued or running is stamped on every pass, and every claim re-reads the file
 * under the claim lock whatever the cache holds.
 *
 * A file too recent to be cached by its stamp (racy) is read again on every pass, but its bytes are
 * kept: when they are the bytes read last time, the entry parsed from them is used again (a parse
 * is a function of the bytes), so a queue of just-submitted tasks is read, not parsed and validated,
 * at every pass of its first seconds.
 */
import type { Stats } from "node:fs";

/** Covers the coarsest common timestamp (FAT's 2 s) and a little clock skew on a share. */
const RACY_MS = 2_500;
export const FULL_CHECK_MS = 5_000;

export type Stamp = string;

/**
 * Times in milliseconds as doubles (a quarter of a microsecond apart at today's dates), not BigInt
 * nanoseconds: a `list` stamps ten thousand files, and BigInt stats and their strings cost more
 * than the stats themselves. Nothing is lost: a cached file's ctime is at least RACY_MS old, and any
 * write since moves it to now, seconds away.
 */
export function stampOf(info: Stats): Stamp {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

/** True when a same-size write in place could still leave the stamp as it is. */
export function isRacy(info: Pick<Stats, "mtimeMs" | "ctimeMs">, stampedAtMs: number): boolean {
  const { ctimeMs, mtimeMs } = info;
  return Math.abs(stampedAtMs - ctimeMs) < RACY_MS || Math.abs(stampedAtMs - mtimeMs) < RACY_MS || ctimeMs > stampedAtMs || mtimeMs > stampedAtMs;
}

export interface Cached<T> {
  stamp: Stamp;
  value: T;
  finished: boolean;
  /** Stamped by this process: an entry from the cache file is not trusted until its stamp is checked once. */
  checked: boolean;
}

/** A finished entry as the cache file holds it. */
export interface SavedEntry<T> {
  name: string;
  stamp: Stamp;
  value: T;
}

export class StampCache<T> {
  private readonly entries = new Map<string, Cached<T>>();
  /** Names whose entry was set or dropped since the last `takeTouched`. */
  private touched = new Set<string>();
  /** Racy files: the bytes last read and what they parsed to. */
  private readonly recent = new Map<string, { bytes: Buffer; value: T }>();
  private lastFullCheck = -Infinity;
  /** The finished entries differ from what was last saved (or loaded). */
  private unsaved = false;

  constructor(private readonly enabled: boolean) {}

  /** Starts a pass: returns whether this one must stamp finished tasks too. */
  beginPass(now: number): boolean {
    if (now - this.lastFullCheck < FULL_CHECK_MS) return false;
    this.lastFullCheck = now;
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * What the cache holds for the name: its value is trusted without a stamp between full checks when
   * `isTrusted` says so (a finished task). A pass counts the names found, to learn without another
   * lookup whether any is gone.
   */
  peek(name: string): Cached<T> | undefined {
    return this.entries.get(name);
  }

  static isTrusted<T>(cached: Cached<T>): boolean {
    return cached.finished && cached.checked;
  }

  get(name: string, stamp: Stamp): T | undefined {
    const cached = this.entries.get(name);
    if (!cached || cached.stamp !== stamp) return undefined;
    cached.checked = true;
    return cached.value;
  }

  /** What `bytes` parsed to when they were last read from this racy file, if they are the same bytes. */
  sameBytes(name: string, bytes: Buffer): T | undefined {
    const recent = this.recent.get(name);
    return recent?.bytes.equals(bytes) ? recent.value : undefined;
  }

  /** `bytes`: what was read, kept while the file is racy (undefined when nothing could be read). */
  set(name: string, info: Stats, stampedAtMs: number, value: T, finished: boolean, bytes?: Buffer): void {
    if (!this.enabled) return;
    if (isRacy(info, stampedAtMs)) {
      // The same bytes read again give the very entry parsed before: nothing changed, so nothing is
      // touched, and a start check (which takes unchanged files as last seen) need not read it again.
      const reread = !this.entries.has(name) && this.recent.get(name)?.value === value;
      if (!reread) this.delete(name);
      if (bytes) this.recent.set(name, { bytes, value });
      return;
    }
    this.delete(name);
    this.recent.delete(name);
    this.entries.set(name, { stamp: stampOf(info), value, finished, checked: true });
    this.touched.add(name);
    if (finished) this.unsaved = true;
  }

  forget(name: string): void {
    this.delete(name);
  }

  /**
   * Drops the entries of files no longer in the folder. `present`, when the caller counted them, is
   * how many of `names` the cache holds: equal to its size, nothing is gone and no set of ten
   * thousand names is built. (The racy files' bytes go with the next drop; until then a name that
   * comes back with the same bytes parses as it did.)
   */
  keepOnly(names: readonly string[], present?: number): void {
    if (present === this.entries.size) return;
    dropAbsent(this.entries, names, (name) => this.delete(name));
    dropAbsent(this.recent, names);
  }

  /** An entry read back from the cache file: used only once a stamp of its file matches. */
  restore(name: string, stamp: Stamp, value: T): void {
    if (this.enabled && !this.entries.has(name)) this.entries.set(name, { stamp, value, finished: true, checked: false });
  }

  /** The finished entries to save, or null when the cache file already holds them. */
  toSave(): SavedEntry<T>[] | null {
    if (!this.enabled || !this.unsaved) return null;
    this.unsaved = false;
    return [...this.entries].flatMap(([name, { stamp, value, finished }]) => (finished ? [{ name, stamp, value }] : []));
  }

  /** The names whose entry was set or dropped since the last call: a pass that reuses the last one's entries looks these up again. */
  takeTouched(): Set<string> {
    const touched = this.touched;
    this.touched = new Set();
    return touched;
  }

  private delete(name: string): void {
    if (this.entries.get(name)?.finished) this.unsaved = true;
    this.entries.delete(name);
    this.touched.add(name);
  }
}

/**
 * Deletes the keys of `map` that are not in `names`. A lookup per name shows whether any is gone,
 * so a pass over an unchanged folder builds no set of ten thousand names.
 */
export function dropAbsent<T>(map: Map<string, T>, names: readonly string[], drop: (name: string, value: T) => void = (name) => map.delete(name)): void {
  let present = 0;
  for (const name of names) if (map.has(name)) present++;
  if (present === map.size) return;
  const keep = new Set(names);
  for (const [name, value] of [...map]) if (!keep.has(name)) drop(name, value);
}
