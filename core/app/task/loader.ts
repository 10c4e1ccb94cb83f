/**
 * TaskLoader: the queue as the task folder shows it now, oldest first (by `created_at`, then by
 * file name), and the task files that cannot be read, so the caller can report each of them once.
 */
import type { StoredTask, TaskEntry, TaskStore } from "./store.js";

export type InvalidEntry = Extract<TaskEntry, { ok: false }>;

export interface QueueSnapshot {
  queued: StoredTask[];
  invalid: InvalidEntry[];
}

export async function loadQueue(store: TaskStore): Promise<QueueSnapshot> {
  const entries = await store.list();
  const queued = entries
    .flatMap((entry) => (entry.ok && entry.stored.task.status === "queued" ? [entry.stored] : []))
    .sort((a, b) => Date.parse(a.task.created_at) - Date.parse(b.task.created_at) || a.file.localeCompare(b.file));
  const invalid = entries.filter((entry): entry is InvalidEntry => !entry.ok);
  return { queued, invalid };
}
