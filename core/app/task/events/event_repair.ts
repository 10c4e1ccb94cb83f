/**
 * The events a runner killed by kill -9 never wrote: a task's file and its stream agree in the end.
 *
 * A runner writes the task file first and its event right after; killed between the two, the file
 * says `done` (or `running`, for a file the app wrote, claimed but not yet announced) and the stream
 * never will. Whoever takes the dead runner's place writes what is missing, once, marked
 * `"recovered": true` in the payload: recovery of a running orphan (under the claim lock, which
 * only one recoverer passes), and the sweep of a dead runner's lease on a finished task (which only
 * one sweeper removes). Only those two look, so a live queue never reads the stream for this.
 */
import { EventReader } from "./event_reader.js";
import type { EventWriter } from "./event_writer.js";
import { isAnnounced } from "../model/lifecycle.js";
import type { Task } from "../model/schema.js";

/** The lifecycle events a task's run has had by now, as its file says, that the stream lacks. */
export async function writeMissingEvents(events: EventWriter, task: Task): Promise<void> {
  const expected = expectedEvents(task);
  if (expected.length === 0) return;
  const since = expected.reduce((first, { since: at }) => (at < first ? at : first), expected[0]?.since ?? task.created_at);
  const seen = await new EventReader(events.eventsDir, { taskId: task.task_id, since: new Date(since).toISOString() }).readNew();
  for (const { type, since: at } of expected) {
    const found = seen.some((line) => line.event?.type === type && Date.parse(line.event.ts) >= Date.parse(at));
    if (found) continue;
    if (type === "task.created") await events.emit(task, type, { input: task.input.media, recovered: true });
    else if (type === "task.started") await events.emit(task, type, { pipeline: task.pipeline, recovered: true });
    else if (type === "task.completed") await events.emit(task, type, { duration_sec: runSeconds(task), recovered: true });
    else await events.emit(task, type, { error: task.error?.message ?? "", stack: task.error?.stack ?? "", recovered: true });
  }
}

type Lifecycle = "task.created" | "task.started" | "task.completed" | "task.failed";

/** Each with the earliest time it may carry: an event before that belongs to an earlier run. */
function expectedEvents(task: Task): { type: Lifecycle; since: string }[] {
  if (!isAnnounced(task)) return [];
  const expected: { type: Lifecycle; since: string }[] = [{ type: "task.created", since: task.created_at }];
  if (task.started_at) expected.push({ type: "task.started", since: task.started_at });
  if (task.status === "done" && task.finished_at) expected.push({ type: "task.completed", since: task.finished_at });
  if (task.status === "failed" && task.finished_at) expected.push({ type: "task.failed", since: task.finished_at });
  return expected;
}

function runSeconds(task: Task): number {
  const seconds = (Date.parse(task.finished_at ?? "") - Date.parse(task.started_at ?? "")) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) / 1000 : 0;
}
