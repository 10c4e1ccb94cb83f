/**
 * The one way Sophia writes a file another program may read: a temporary file beside the target,
 * fsync, rename over the target, fsync the directory. A crash at any instant leaves the old file or
 * the new one, never a half-written one (write-file-atomic also removes its temporary file if the
 * process exits in between; after kill -9 it stays, and `removeAbandonedTemps` clears it).
 */
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeFailure } from "./fs_errors.js";

// Loaded with the first write: a process that only reads (`list`) never needs it.
const loadWriteFileAtomic = () => import("write-file-atomic");
let writeFileAtomic: ReturnType<typeof loadWriteFileAtomic> | null = null;

export async function writeFileAtomically(file: string, data: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await (await (writeFileAtomic ??= loadWriteFileAtomic())).default(file, data, { encoding: "utf8", fsync: true });
    await fsyncDirectory(path.dirname(file));
  } catch (error) {
    throw writeFailure(error, `write ${file}`);
  }
}

/** Makes the rename itself durable: without it a power cut can bring back the old directory entry. */
async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
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
