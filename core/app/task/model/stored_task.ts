/**
 * A task file as the store hands it out: its path, its JSON as read (unknown fields kept) and the
 * validated task; and an entry of a listing of the task folder, which may be a file that cannot be read.
 */
import { SophiaError } from "../../errors.js";
import type { Task } from "./schema.js";

export interface StoredTask {
  /** Absolute path of the task file. */
  file: string;
  /** The file as parsed JSON, unknown fields included: what the store writes back. */
  raw: Record<string, unknown>;
  /** The validated view of `raw`. */
  task: Task;
}

export type TaskEntry =
  | { ok: true; file: string; stored: StoredTask }
  | { ok: false; file: string; idFromName: string; error: SophiaError };

/** Two or more task files announce one task_id: the runner starts none of them. */
export function taskConflict(taskId: string, names: readonly string[]): SophiaError {
  return new SophiaError("task_conflict", `task id "${taskId}" is used by ${names.length} files: ${names.join(", ")}; rename or remove all but one`, {
    details: { task_id: taskId, files: names },
  });
}
