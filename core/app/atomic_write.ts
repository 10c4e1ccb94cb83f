/**
 * The one way Sophia writes a file another program may read: a temporary file beside the target,
 * fsync, rename over the target, fsync the directory. A crash at any instant leaves the old file or
 * the new one, never a half-written one (write-file-atomic also removes its temporary file if the
 * process exits in between).
 */
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import writeFileAtomic from "write-file-atomic";
import { writeFailure } from "./fs_errors.js";

export async function writeFileAtomically(file: string, data: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, data, { encoding: "utf8", fsync: true });
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
