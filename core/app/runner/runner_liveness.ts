/**
 * Whether the runner of a running task is alive: the one rule that recovery, `status` and
 * `cancel` all apply (spec §1.3, rule (a) and (b)).
 *
 * A runner is gone when its process no longer exists on this host (at once: a lease of a process
 * killed by kill -9 stays fresh for up to LEASE_STALE_MS), or when nobody has refreshed its run
 * lease for LEASE_STALE_MS (dead or frozen, on any host).
 */
import { hostname } from "node:os";
import type { RunnerInfo } from "../task/model/schema.js";
import type { DeadRunner, TaskStore } from "../task/store/store.js";

/** A running task's runner, as far as this process can tell. */
export type RunnerState = "alive" | DeadRunner;

export async function runnerState(store: TaskStore, file: string, runner: RunnerInfo | null | undefined): Promise<RunnerState> {
  if (!(await store.leaseHeld(file))) return "lease_stale";
  return processGone(runner) ? "process_gone" : "alive";
}

/** The runner ran on this host and its process is gone. A runner on another host is never judged by pid. */
export function processGone(runner: RunnerInfo | null | undefined): boolean {
  return runner !== undefined && runner !== null && runner.host === hostname() && !processExists(runner.pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
