/** Task file names: `{timestamp}_{task_id}.task.json` (spec §1.1), and the id a name announces. */
import type { Task } from "./schema.js";

export const TASK_FILE_SUFFIX = ".task.json";
/** `{timestamp}_{task_id}`: the timestamp has no `_`, so the first `_` ends it. */
const TASK_FILE_NAME = /^(\d{8}(?:T?\d{4,6}(?:\d{3})?Z?)?)_(.+)\.task\.json$/;

/** Whether a file in tasks/ is a task file (the app's temporary names and the locks are not). */
export function isTaskFileName(name: string): boolean {
  return name.endsWith(TASK_FILE_SUFFIX);
}

export function taskFileName(task: Pick<Task, "created_at" | "task_id">): string {
  const stamp = new Date(task.created_at).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}_${task.task_id}${TASK_FILE_SUFFIX}`;
}

/** The task_id a file name announces; a name without the `{timestamp}_` prefix is all id. */
export function taskIdFromFileName(name: string): string {
  const match = TASK_FILE_NAME.exec(name);
  return match ? (match[2] as string) : name.slice(0, -TASK_FILE_SUFFIX.length);
}

