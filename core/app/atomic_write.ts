/**
 * The one way Sophia writes a file another program may read: a temporary file beside the target,
 * fsync, rename over the target, fsync the directory. A crash at any instant leaves the old file or
 * the new one, never a half-written one (write-file-atomic also removes its temporary file if the
 * process exits in between; after kill -9 it stays, and `removeAbandonedTemps` clears it).
 *
 * The steps are synchronous (write-file-atomic's sync API): a task file or a subtitle file is small,
 * so the write and its two fsyncs take about a millisecond here, where the async version's dozen
 * hand-offs to libuv's threads (mkdir, open, write, fsync, close, chown, chmod, rename, and the
 * folder's open, fsync, close) each wait for a time slice on a busy machine: three such writes a
 * task made a queue of small tasks wait on the thread pool. The main thread blocking for that long
 * is harmless: run leases are refreshed by their own thread (lease_keeper.ts). Nor can a signal
 * handler run in the middle of it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeFailure } from "./fs_errors.js";

// Loaded with the first write: a process that only reads (`list`) never needs it.
const loadWriteFileAtomic = () => import("write-file-atomic");
let writeFileAtomicModule: ReturnType<typeof loadWriteFileAtomic> | null = null;

export async function writeFileAtomically(file: string, data: string): Promise<void> {
  const { default: writeFileAtomic } = await (writeFileAtomicModule ??= loadWriteFileAtomic());
  const write = () => writeFileAtomic.sync(file, data, { encoding: "utf8", fsync: true });
  try {
    try {
      write();
    } catch (error) {
      // The folder is nearly always there: made only when the write finds it missing.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      mkdirSync(path.dirname(file), { recursive: true });
      write();
    }
    fsyncDirectory(path.dirname(file));
  } catch (error) {
    throw writeFailure(error, `write ${file}`);
  }
}

/** Makes the rename itself durable: without it a power cut can bring back the old directory entry. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** write-file-atomic's temporary name: the target's name, a dot, a decimal hash. */
const TEMP_SUFFIX = /^\.\d+$/;

/**
 * Removes the temporary files that interrupted writes of `file` left beside it (their writer was
 * killed before the rename), when older than `olderThanMs`: a live write takes milliseconds. Returns
 * how many were removed.
 */
export async function removeAbandonedTemps(file: string, olderThanMs: number): Promise<number> {
  const dir = path.dirname(file);
  const prefix = path.basename(file);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !TEMP_SUFFIX.test(name.slice(prefix.length))) continue;
    const info = await stat(path.join(dir, name)).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
    await rm(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
