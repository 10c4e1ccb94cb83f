/**
 * Recovery of tasks left `running` by a runner that died (kill -9, power cut, crash).
 *
 * A running task is orphaned when its runner is known dead: on this host, its pid no longer
 * exists; on any host, its run lease has not been refreshed for LEASE_STALE_MS. An orphan goes back
 * to `queued` (event `task.requeued`, reason "recovered"), or to `failed` once MAX_ATTEMPTS runs
 * have each died mid-task, so one poisonous input cannot crash runners forever.
 */
import { rm } from "node:fs/promises";
import { removeAbandonedTemps } from "../atomic_write.js";
import { isSophiaError } from "../errors.js";
import type { EventWriter } from "../task/events/event_writer.js";
import type { Task } from "../task/model/schema.js";
import { runOf } from "../task/model/lifecycle.js";
import type { StoredTask, TaskEntry } from "../task/model/stored_task.js";
import { LEASE_STALE_MS, type DeadRunner, type TaskStore } from "../task/store/store.js";
import { namedOutputs, resolveTaskPaths, type TaskPaths } from "../task/model/task_paths.js";
import { processGone, runnerState } from "./runner_liveness.js";
import { writeMissingEvents } from "../task/events/event_repair.js";

export const MAX_ATTEMPTS = 3;

export interface Recovered {
  taskId: string;
  action: "requeued" | "failed";
}

/** `scan`: the folder as the caller has just listed it (store.listWithLeftovers), else listed here. */
export async function recoverOrphans(store: TaskStore, events: EventWriter, scan?: { entries: readonly TaskEntry[]; leftovers: ReadonlySet<string> }): Promise<Recovered[]> {
  const recovered: Recovered[] = [];
  const { entries, leftovers } = scan ?? (await store.listWithLeftovers());
  for (const entry of entries) {
    if (!entry.ok) continue;
    if (entry.stored.task.status !== "running") {
      if (leftovers.has(entry.file)) await sweepAfterDeadRunner(store, events, entry.stored);
      continue;
    }
    const runner = await runnerState(store, entry.file, entry.stored.task.runner);
    if (runner === "alive") continue;
    const result = await recoverOne(store, events, entry.stored, runner).catch((error: unknown) => {
      // Another runner recovered or claimed it first.
      if (isSophiaError(error, "transition_refused") || isSophiaError(error, "task_busy")) return null;
      throw error;
    });
    if (result) recovered.push(result);
  }
  return recovered;
}

const TERMINAL: readonly string[] = ["done", "failed", "canceled"];
/** A runner that wants a queued task takes its stale lease over at once; one stale this long is nobody's (a task with a duplicate id is never claimed). */
const ABANDONED_QUEUED_LEASE_MS = 2 * LEASE_STALE_MS;
/** A temporary file of a write this old is not a write in progress: writes take milliseconds. */
const PARTIAL_WRITE_AGE_MS = 2_000;

/**
 * What dead runners leave on tasks that will not be recovered: a runner killed while it held a task
 * the user then canceled leaves its lease, its `_tmp` folder and perhaps a half-written output; one
 * killed between taking the lease and claiming leaves a lease on a queued task; one killed during a
 * task-file write leaves the claim lock and a temporary file. Removed once their holder is known
 * gone (the store decides under the claim lock, so no runner is taking that lease meanwhile).
 */
async function sweepAfterDeadRunner(store: TaskStore, events: EventWriter, stored: StoredTask): Promise<void> {
  const swept = await store
    .sweep(stored.file, (task, leaseFresh, staleAt) => {
      if (TERMINAL.includes(task.status)) return !leaseFresh || processGone(task.runner);
      return task.status === "queued" && Date.now() > staleAt + ABANDONED_QUEUED_LEASE_MS;
    })
    .catch((error: unknown) => {
      if (isSophiaError(error, "task_busy") || isSophiaError(error, "task_not_found")) return null;
      throw error;
    });
  // A runner writes its last event before it lets go of its lease: killed in between, the event is missing.
  // (And a `submit` writes its `task.created` before it lets go of the new task's lease.)
  if (swept?.leaseRemoved && swept.task.status !== "canceled") await writeMissingEvents(events, swept.task);
  if (swept?.leaseRemoved && swept.task.status === "canceled" && swept.task.config_snapshot.debug?.keep_tmp !== true) {
    await rm(store.workspace.tmpDir(swept.task.task_id), { recursive: true, force: true });
    await removePartialOutputs(store, swept.task);
  }
}

/** Temporary files of output writes that a dead runner never renamed into place. */
async function removePartialOutputs(store: TaskStore, task: Task): Promise<void> {
  let paths: TaskPaths;
  try {
    paths = resolveTaskPaths(task, store.workspace);
  } catch {
    return; // outputs that cannot be resolved were never written
  }
  for (const output of namedOutputs(paths)) await removeAbandonedTemps(output.path, PARTIAL_WRITE_AGE_MS);
}

async function recoverOne(store: TaskStore, events: EventWriter, seen: StoredTask, dead: DeadRunner): Promise<Recovered> {
  const attempts = seen.task.attempts ?? 0;
  const giveUp = attempts >= MAX_ATTEMPTS;
  const run = runOf(seen.task);
  const now = new Date().toISOString();
  const removeTmp = async () => {
    await rm(store.workspace.tmpDir(seen.task.task_id), { recursive: true, force: true });
    await removePartialOutputs(store, seen.task);
  };
  if (giveUp) {
    const message = `the runner died during each of ${attempts} attempts (last on ${seen.task.runner?.host ?? "unknown host"}, pid ${seen.task.runner?.pid ?? "?"}); not retried automatically: \`sophia-cli retry ${seen.task.task_id}\` queues it again`;
    await store.recover(seen.file, "abandon", dead, run, () => ({ error: { code: "interrupted", message, stage: null, stack: "", at: now }, finished_at: now, runner: null }));
    await writeMissingEvents(events, seen.task);
    await removeTmp();
    await events.emit(seen.task, "task.failed", { error: message, stack: "" });
    return { taskId: seen.task.task_id, action: "failed" };
  }
  await store.recover(seen.file, "recover", dead, run, () => ({ started_at: null, runner: null }));
  // The run's own `task.created` (a file the app wrote) and `task.started`, if it was killed before them.
  await writeMissingEvents(events, seen.task);
  await removeTmp();
  await events.emit(seen.task, "task.requeued", { reason: "recovered", attempts });
  return { taskId: seen.task.task_id, action: "requeued" };
}
