/**
 * Where running tasks are, read back from the event stream: the task file holds the status, the
 * stream holds the progress (the runner never rewrites the task file for a progress tick).
 */
import type { TaskProgress } from "./interfaces.js";
import { EventReader } from "./task/events/event_reader.js";
import type { Task } from "./task/model/schema.js";

/** The progress of each task's current attempt, by task id; null before its first stage starts. */
export async function progressOf(eventsDir: string, running: readonly Task[]): Promise<Map<string, TaskProgress | null>> {
  const progress = new Map<string, TaskProgress | null>(running.map((task) => [task.task_id, null]));
  if (running.length === 0) return progress;
  // The current attempt began at started_at: older events belong to earlier attempts.
  const since = running.map((task) => new Date(task.started_at ?? task.created_at).toISOString()).sort()[0];
  for (const { event } of await new EventReader(eventsDir, { since }).readNew()) {
    if (!event || !progress.has(event.task_id)) continue;
    const at = event.ts;
    if (event.type === "task.started") progress.set(event.task_id, null);
    else if (event.type === "stage.started") progress.set(event.task_id, { stage: event.payload.stage, fraction: 0, msg: "", at });
    else if (event.type === "stage.progress") progress.set(event.task_id, { stage: event.payload.stage, fraction: event.payload.progress, msg: event.payload.msg, at });
    else if (event.type === "stage.completed") progress.set(event.task_id, { stage: event.payload.stage, fraction: 1, msg: "done", at });
  }
  return progress;
}
