/** The statuses a task can have, without the schema (zod): what `list --status` and `status` need to name them. */
export const TASK_STATUSES = ["queued", "running", "done", "failed", "canceled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
