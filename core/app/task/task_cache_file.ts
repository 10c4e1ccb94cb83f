/**
 * The task file cache kept on disk, `tasks/.sophia-task-cache.json`, so that a process that starts
 * cold (`sophia-cli list`, `submit`, a runner) does not read and validate the whole history again.
 *
 * It is a cache, never the truth: it holds finished tasks (done, failed, canceled) as they were
 * validated, each with the stamp of its file (task_file_cache.ts), and an entry is used only when a
 * stamp of the file taken now matches; a file changed since (by a runner, the app or by hand) is
 * read again. Written whole and atomically by the store, at most every SAVE_INTERVAL_MS; a file that
 * is missing, unreadable, not JSON or of another version is ignored and written again from the
 * task files, and a workspace where it cannot be written simply goes without it.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomically } from "../atomic_write.js";

export const TASK_CACHE_FILE = ".sophia-task-cache.json";
export const SAVE_INTERVAL_MS = 10_000;
const FORMAT = "sophia.task-cache";
// 2: stamps with times in milliseconds (task_file_cache.ts); a file of version 1 is written again.
const VERSION = 2;

export interface CachedTaskFile {
  name: string;
  stamp: string;
  raw: Record<string, unknown>;
}

/**
 * Hands each entry of the cache file to `take`, in the file's order; none when it is missing or not
 * one this version wrote. A callback, not an array: ten thousand entries are made into the store's
 * own entries without an object in between.
 */
export function readTaskCacheFile(file: string, take: (entry: CachedTaskFile) => void): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return;
  }
  if (!isRecord(parsed) || parsed.format !== FORMAT || parsed.version !== VERSION || !Array.isArray(parsed.entries)) return;
  for (const entry of parsed.entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) continue;
    const [name, stamp, raw] = entry as unknown[];
    if (typeof name === "string" && typeof stamp === "string" && isRecord(raw)) take({ name, stamp, raw });
  }
}

export async function writeTaskCacheFile(file: string, entries: readonly CachedTaskFile[]): Promise<void> {
  await writeFileAtomically(file, JSON.stringify({ format: FORMAT, version: VERSION, entries: entries.map(({ name, stamp, raw }) => [name, stamp, raw]) }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
