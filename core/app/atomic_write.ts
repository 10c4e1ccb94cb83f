/**
 * The one way Sophia writes a file another program may read: a temporary file beside the target,
 * fsync, rename over the target, fsync the directory. A crash at any instant leaves the old file or
 * the new one, never a half-written one (a temporary file left by kill -9 is cleared by
 * `removeAbandonedTemps`).
 *
 * A write never follows a symbolic link: the temporary file is created exclusively and with
 * O_NOFOLLOW, and the target is checked for a link just before the rename (which replaces a name,
 * never what a link points to), in the same synchronous step, so a link placed after the task's
 * preflight is refused, not written through. `check` sees where the file will land, its folder's
 * links resolved, at that same moment: a stage refuses there a destination that became reserved or
 * an input (task_paths.ts, `assertWritable`). Hand-rolled: write-file-atomic, used before, resolves
 * the target with realpath and writes where a link points.
 *
 * The steps are synchronous: a task file or a subtitle file is small, so the write and its two
 * fsyncs take about a millisecond here, where the async calls' hand-offs to libuv's threads each
 * wait for a time slice on a busy machine: three such writes a task made a queue of small tasks wait
 * on the thread pool. The main thread blocking for that long is harmless: run leases are refreshed
 * by their own thread (lease_keeper.ts). Nor can a signal handler run in the middle of it.
 */
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomInt } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { SophiaError } from "./errors.js";
import { writeFailure } from "./fs_errors.js";

export interface WriteOptions {
  /** Called with the real path the file will land at, just before the rename: throws to refuse it. */
  check?: (destination: string) => void;
}

export async function writeFileAtomically(file: string, data: string, options: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  let temp: string | null = null;
  try {
    const opened = openTemp(file);
    temp = opened.temp;
    try {
      writeSync(opened.fd, data);
      fsyncSync(opened.fd);
    } finally {
      closeSync(opened.fd);
    }
    assertNotALink(file);
    options.check?.(path.join(realpathSync.native(dir), path.basename(file)));
    renameSync(temp, file);
    temp = null;
    fsyncDirectory(dir);
  } catch (error) {
    if (temp !== null) rmSync(temp, { force: true });
    throw writeFailure(error, `write ${file}`);
  }
}

const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A new temporary file beside `file`, made exclusively (never an existing file or a link); the folder made if missing. */
function openTemp(file: string): { temp: string; fd: number } {
  for (let tries = 0; ; tries++) {
    const temp = `${file}.${randomInt(1, 2 ** 47)}`;
    try {
      return { temp, fd: openSync(temp, TEMP_FLAGS, 0o644) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The folder is nearly always there: made only when the write finds it missing.
      if (code === "ENOENT" && tries === 0) mkdirSync(path.dirname(file), { recursive: true });
      else if (code !== "EEXIST" || tries > 8) throw error;
    }
  }
}

function assertNotALink(file: string): void {
  const info = lstatSync(file, { throwIfNoEntry: false });
  if (info?.isSymbolicLink()) {
    throw new SophiaError("output_reserved", `${file} is a symbolic link (to ${readlinkSync(file)}): Sophia never writes through a link; remove it or choose another path`, {
      details: { path: file },
    });
  }
  if (info && !info.isFile()) throw new SophiaError("output_reserved", `${file} is not a regular file: Sophia writes only over a file of its own`, { details: { path: file } });
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

/** A temporary file's name: the target's name, a dot, a decimal number (write-file-atomic's form too, which Sophia used before). */
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
