/**
 * The task file cache kept on disk, `tasks/.sophia-task-cache.json`, so that a process that starts
 * cold (`sophia-cli list`, `submit`, a runner) does not read and validate the whole history again.
 *
 * It is a cache, never the truth: it holds finished tasks (done, failed, canceled) as they were
 * validated, each with the stamp of its file (stamp_cache.ts), and an entry is used only when a
 * stamp of the file taken now matches; a file changed since (by a runner, the app or by hand) is
 * read again. Written whole and atomically by the store, at most every SAVE_INTERVAL_MS; a file that
 * is missing, unreadable, not of this format or of another version is ignored and written again
 * from the task files, and a workspace where it cannot be written simply goes without it.
 *
 * One line per task, after a header line: its file name, its stamp, its summary (what `list`
 * shows: id, status, created_at, media) as a JSON array, and the task's JSON, tab-separated (JSON
 * text holds no raw tab or line break). A cold `list` splits the lines and parses only the small
 * summaries; each task's JSON is parsed when something first asks for the task (`SavedTask`). An
 * entry whose summary disagrees with its JSON is dropped, and one whose JSON is damaged is read
 * from its task file: a damaged or forged cache stops nothing and shows no status a file lacks.
 * Parsing all of them, and the garbage collector copying what that made, was a third of `list`.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { writeFileAtomically } from "../../atomic_write.js";
import type { Task } from "../model/schema.js";
import type { TaskStatus } from "../model/task_status.js";

export const TASK_CACHE_FILE = ".sophia-task-cache.json";
export const SAVE_INTERVAL_MS = 10_000;
// Version 3: one line per task with its summary; stamps in milliseconds (stamp_cache.ts) since 2.
const HEADER = JSON.stringify({ format: "sophia.task-cache", version: 3 });

/** What `list` shows of a task without parsing it: its id, status, created_at and media. */
export interface TaskSummary {
  id: string;
  status: TaskStatus;
  created_at: string;
  media: string;
}

export function summaryOfTask(task: Task): TaskSummary {
  return { id: task.task_id, status: task.status, created_at: task.created_at, media: task.input.media };
}

/**
 * A finished task as the cache file holds it: the store's StoredTask, whose JSON is parsed the first
 * time `raw` or `task` is asked for (the schema's output is its input, so the one object is both).
 */
export class SavedTask {
  private parsed: Record<string, unknown> | null = null;

  constructor(
    readonly file: string,
    readonly summary: TaskSummary,
    /** The task's JSON as the cache file holds it, written again as it is. */
    readonly json: string,
    /**
     * The task as its file holds it, for an entry whose JSON turns out damaged: the file's stamp
     * matched the entry's, so it holds the bytes that were validated when the entry was made.
     */
    private readonly fromFile: () => Record<string, unknown>,
  ) {}

  get raw(): Record<string, unknown> {
    this.parsed ??= parseSaved(this.json, this.summary) ?? this.fromFile();
    return this.parsed;
  }

  get task(): Task {
    return this.raw as Task;
  }
}

/** The store wrote the line from one validated task; null for a line damaged since (by hand, or a disk fault). */
function parseSaved(json: string, summary: TaskSummary): Record<string, unknown> | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  return isRecord(raw) && raw.task_id === summary.id && raw.status === summary.status && raw.created_at === summary.created_at ? raw : null;
}

/**
 * Whether an entry's summary is the one its JSON says, without parsing the JSON: the store writes
 * the JSON compactly, so each field's `"name":value` is in it. A summary edited apart from its task
 * (a forged status) is not used, and the task is read from its file.
 */
function summaryAgrees(summary: TaskSummary, json: string): boolean {
  return (
    json.includes(`"task_id":${JSON.stringify(summary.id)}`) &&
    json.includes(`"status":${JSON.stringify(summary.status)}`) &&
    json.includes(`"created_at":${JSON.stringify(summary.created_at)}`) &&
    json.includes(`"media":${JSON.stringify(summary.media)}`)
  );
}

export interface CachedTaskFile {
  name: string;
  stamp: string;
  summary: TaskSummary;
  json: string;
}

/**
 * Hands each entry of the cache file to `take`, in the file's order; none when it is missing, not a
 * regular file (a symbolic link, opened with O_NOFOLLOW, is absent: never read through, and never
 * written through, writeFileAtomically refuses it) or not one this version wrote. A line that is not
 * an entry is skipped.
 */
export function readSummaryFile(file: string, take: (entry: CachedTaskFile) => void): void {
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!fstatSync(fd).isFile()) return;
      text = readFileSync(fd, "utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return;
  }
  let start = text.indexOf("\n");
  if (start < 0 || text.slice(0, start) !== HEADER) return;
  while (start < text.length) {
    const end = text.indexOf("\n", start + 1);
    const line = text.slice(start + 1, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end;
    const entry = entryOf(line);
    if (entry) take(entry);
  }
}

function entryOf(line: string): CachedTaskFile | null {
  const afterName = line.indexOf("\t");
  const afterStamp = line.indexOf("\t", afterName + 1);
  const afterSummary = line.indexOf("\t", afterStamp + 1);
  if (afterName < 0 || afterStamp < 0 || afterSummary < 0) return null;
  let summary: unknown;
  try {
    summary = JSON.parse(line.slice(afterStamp + 1, afterSummary));
  } catch {
    return null;
  }
  if (!Array.isArray(summary) || summary.length !== 4 || !summary.every((field) => typeof field === "string")) return null;
  const [id, status, created_at, media] = summary as [string, TaskStatus, string, string];
  const entry = { name: line.slice(0, afterName), stamp: line.slice(afterName + 1, afterStamp), summary: { id, status, created_at, media }, json: line.slice(afterSummary + 1) };
  return summaryAgrees(entry.summary, entry.json) ? entry : null;
}

export async function writeSummaryFile(file: string, entries: readonly CachedTaskFile[]): Promise<void> {
  // A name with a tab or a line break in it (the app may choose one) is left out: it is read from its file.
  const lines = entries.flatMap(({ name, stamp, summary, json }) =>
    /[\t\n\r]/.test(name) ? [] : [`${name}\t${stamp}\t${JSON.stringify([summary.id, summary.status, summary.created_at, summary.media])}\t${json}`],
  );
  await writeFileAtomically(file, `${HEADER}\n${lines.join("\n")}\n`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
