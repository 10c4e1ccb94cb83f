/**
 * Recovery of tasks left `running` by a runner that died (kill -9, power cut, crash).
 *
 * A running task is orphaned when its runner is known dead: on this host, its pid no longer
 * exists; on any host, its run lease has not been refreshed for LEASE_STALE_MS. An orphan goes back
 * to `queued` (event `task.requeued`, reason "recovered"), or to `failed` once MAX_ATTEMPTS runs
 * have each died mid-task, so one poisonous input cannot crash runners forever.
 */
import { hostname } from "node:os";
import { rm } from "node:fs/promises";
import { SophiaError, isSophiaError } from "../errors.js";
import type { EventWriter } from "./events.js";
import type { Task } from "./schema.js";
import type { StoredTask, TaskStore } from "./store.js";
import { isSameRun } from "./lifecycle.js";

export const MAX_ATTEMPTS = 3;

export interface Recovered {
  taskId: string;
  action: "requeued" | "failed";
}

export async function recoverOrphans(store: TaskStore, events: EventWriter): Promise<Recovered[]> {
  const recovered: Recovered[] = [];
  for (const entry of await store.list()) {
    if (!entry.ok) continue;
    if (entry.stored.task.status !== "running") {
      await sweepAfterDeadRunner(store, entry.stored);
      continue;
    }
    const orphan = await orphanState(store, entry.stored);
    if (!orphan) continue;
    const result = await recoverOne(store, events, entry.stored, orphan.leaseFresh).catch((error: unknown) => {
      // Another runner recovered or claimed it first.
      if (isSophiaError(error, "transition_refused") || isSophiaError(error, "task_busy")) return null;
      throw error;
    });
    if (result) recovered.push(result);
  }
  return recovered;
}

type Orphan = { leaseFresh: boolean } | null;

async function orphanState(store: TaskStore, stored: StoredTask): Promise<Orphan> {
  const leaseFresh = await store.leaseHeld(stored.file);
  return ownerDead(stored.task) || !leaseFresh ? { leaseFresh } : null;
}

function ownerDead(task: Task): boolean {
  const runner = task.runner;
  return runner !== undefined && runner !== null && runner.host === hostname() && !processExists(runner.pid);
}

const TERMINAL: readonly string[] = ["done", "failed", "canceled"];

/**
 * A runner that died holding a task the user then canceled leaves its run lease and its `_tmp`
 * folder behind, and no one else would ever remove them: a finished task is never claimed again.
 * Removed once the lease is stale or its owner is known dead. Only finished tasks are swept, under
 * the claim lock, so no runner can be taking that lease at the same moment (a queued task's stale
 * lease is taken over by its next claim instead).
 */
async function sweepAfterDeadRunner(store: TaskStore, stored: StoredTask): Promise<void> {
  if (!TERMINAL.includes(stored.task.status) || (await store.leaseStaleAt(stored.file)) === null) return;
  const swept = await store
    .removeLeaseIf(stored.file, (task, leaseFresh) => TERMINAL.includes(task.status) && (!leaseFresh || ownerDead(task)))
    .catch((error: unknown) => {
      if (isSophiaError(error, "task_busy") || isSophiaError(error, "task_not_found")) return null;
      throw error;
    });
  if (swept?.status === "canceled" && swept.config_snapshot.debug?.keep_tmp !== true) {
    await rm(store.workspace.tmpDir(swept.task_id), { recursive: true, force: true });
  }
}

async function recoverOne(store: TaskStore, events: EventWriter, seen: StoredTask, leaseFresh: boolean): Promise<Recovered> {
  const attempts = seen.task.attempts ?? 0;
  const giveUp = attempts >= MAX_ATTEMPTS;
  // A dead owner's fresh lease would block the next claim for LEASE_STALE_MS; a stale one is taken over anyway.
  const options = { breakLease: leaseFresh };
  const sameRun = (current: Task) => {
    if (!isSameRun(current, seen.task.attempts, seen.task.runner)) {
      throw new SophiaError("transition_refused", `task ${current.task_id} changed while being recovered`, {});
    }
  };
  const now = new Date().toISOString();
  const removeTmp = () => rm(store.workspace.tmpDir(seen.task.task_id), { recursive: true, force: true });
  if (giveUp) {
    const message = `the runner died during each of ${attempts} attempts (last on ${seen.task.runner?.host ?? "unknown host"}, pid ${seen.task.runner?.pid ?? "?"}); not retried automatically: \`sophia-cli retry ${seen.task.task_id}\` queues it again`;
    await store.transition(seen.file, "abandon", (current) => {
      sameRun(current);
      return { error: { code: "interrupted", message, stage: null, stack: "", at: now }, finished_at: now, runner: null };
    }, options);
    await removeTmp();
    await events.emit(seen.task, "task.failed", { error: message, stack: "" });
    return { taskId: seen.task.task_id, action: "failed" };
  }
  await store.transition(seen.file, "recover", (current) => {
    sameRun(current);
    return { started_at: null, runner: null };
  }, options);
  await removeTmp();
  await events.emit(seen.task, "task.requeued", { reason: "recovered", attempts });
  return { taskId: seen.task.task_id, action: "requeued" };
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
