/**
 * The queue as the task folder shows it now, oldest first (by `created_at`, then by
 * file name), the task files that cannot be read, and the task ids that more than one file claims,
 * so the caller can report each of them once.
 */
import path from "node:path";
import type { SophiaError } from "../errors.js";
import { taskConflict, type StoredTask, type TaskEntry } from "../task/model/stored_task.js";

export type InvalidEntry = Extract<TaskEntry, { ok: false }>;

/** Two or more task files with one task_id: none of them is started (spec §1.1). */
export interface Conflict {
  taskId: string;
  /** The files, in name order. */
  files: string[];
  error: SophiaError;
}

export interface QueueSnapshot {
  queued: StoredTask[];
  invalid: InvalidEntry[];
  conflicts: Conflict[];
}

/** The queue in a listing of the task folder (store.list). */
export function queueOf(entries: readonly TaskEntry[]): QueueSnapshot {
  const conflicts = findConflicts(entries);
  const conflicted = new Set(conflicts.map((conflict) => conflict.taskId));
  const queued = entries
    .flatMap((entry) => (entry.ok && entry.stored.task.status === "queued" && !conflicted.has(entry.stored.task.task_id) ? [entry.stored] : []))
    .sort((a, b) => Date.parse(a.task.created_at) - Date.parse(b.task.created_at) || a.file.localeCompare(b.file));
  const invalid = entries.filter((entry): entry is InvalidEntry => !entry.ok);
  return { queued, invalid, conflicts };
}

/** By the id each file's name announces, readable or not: the same rule `store.find` applies. */
function findConflicts(entries: readonly TaskEntry[]): Conflict[] {
  const filesById = new Map<string, string[]>();
  for (const entry of entries) {
    const taskId = entry.ok ? entry.stored.task.task_id : entry.idFromName;
    const files = filesById.get(taskId);
    if (files) files.push(entry.file);
    else filesById.set(taskId, [entry.file]);
  }
  return [...filesById]
    .filter(([, files]) => files.length > 1)
    .map(([taskId, files]) => ({ taskId, files, error: taskConflict(taskId, files.map((file) => path.basename(file))) }));
}
