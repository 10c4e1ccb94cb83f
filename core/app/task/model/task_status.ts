/** The statuses a task can have, without the schema (zod): what `list --status` and `status` need to name them. */
export const TASK_STATUSES = ["queued", "running", "done", "failed", "canceled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Where a task ends, until a retry queues it again: `wait` returns and `events --follow --task` stops here. */
export const FINISHED_STATUSES = ["done", "failed", "canceled"] as const satisfies readonly TaskStatus[];

export function isFinished(status: TaskStatus): boolean {
  return (FINISHED_STATUSES as readonly TaskStatus[]).includes(status);
}
