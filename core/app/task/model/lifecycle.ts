/**
 * The status lifecycle: every status change a task may go through, in one table.
 *
 *   queued → running → done | failed
 *   queued | running → canceled
 *   failed | canceled → queued        (retry)
 *   running → queued | failed          (hand-back on shutdown; recovery from a dead runner)
 *
 * The store refuses anything else, so no caller can move a task along an edge that is not here.
 */
import { SophiaError } from "../../errors.js";
import type { Task, TaskStatus } from "./schema.js";

export const TRANSITIONS = {
  claim: { from: ["queued"], to: "running" },
  complete: { from: ["running"], to: "done" },
  fail: { from: ["running"], to: "failed" },
  cancel: { from: ["queued", "running"], to: "canceled" },
  retry: { from: ["failed", "canceled"], to: "queued" },
  hand_back: { from: ["running"], to: "queued" },
  recover: { from: ["running"], to: "queued" },
  abandon: { from: ["running"], to: "failed" },
} as const satisfies Record<string, { from: readonly TaskStatus[]; to: TaskStatus }>;

export type TransitionName = keyof typeof TRANSITIONS;

const VERBS: Record<TransitionName, string> = {
  claim: "start",
  complete: "complete",
  fail: "fail",
  cancel: "cancel",
  retry: "retry",
  hand_back: "hand back",
  recover: "recover",
  abandon: "abandon",
};

export function canTransition(name: TransitionName, status: TaskStatus): boolean {
  return (TRANSITIONS[name].from as readonly TaskStatus[]).includes(status);
}

/** Throws `transition_refused` with a message that says what is allowed instead. */
export function assertTransition(name: TransitionName, taskId: string, status: TaskStatus): void {
  if (canTransition(name, status)) return;
  const allowed = TRANSITIONS[name].from.join(" or ");
  const hint = status === "done" || status === "failed" || status === "canceled" ? nextStepHint(status) : "";
  throw new SophiaError(
    "transition_refused",
    `cannot ${VERBS[name]} task ${taskId}: it is ${status} (only ${allowed} tasks can be ${pastTense(name)})${hint}`,
    { details: { task_id: taskId, status, transition: name } },
  );
}

function pastTense(name: TransitionName): string {
  return { claim: "started", complete: "completed", fail: "failed", cancel: "canceled", retry: "retried", hand_back: "handed back", recover: "recovered", abandon: "abandoned" }[name];
}

function nextStepHint(status: TaskStatus): string {
  if (status === "done") return "; submit a new task to run it again";
  return "; `sophia-cli retry <id>` queues it again";
}

/**
 * The run a task file names: the token its last claim wrote (`run_token`, never cleared, so it still
 * tells after the run ended and `runner` was cleared), or, for a file claimed by a Sophia older than
 * run tokens, its attempt and runner process. Every write after a claim (by the runner, or by
 * recovery on a dead runner's behalf) is made only while the file still names the same run; the
 * store checks it where it writes.
 */
export function runOf(task: Pick<Task, "run_token" | "attempts" | "runner">): string {
  if (task.run_token !== undefined) return task.run_token;
  const { runner } = task;
  return JSON.stringify([task.attempts ?? null, runner?.host ?? null, runner?.pid ?? null, runner?.started_at ?? null]);
}

/**
 * What the task file says of a run: still the runner's own (`ours`: it names the run and is
 * running), ended by the user (`canceled`), or taken over (`superseded`: another run, or recovery
 * put it back in the queue).
 *
 * A task the user canceled and queued again (`cancel` then `retry`, perhaps within milliseconds of
 * each other) before any runner claimed it is `canceled` too: only `retry` writes `attempts: 0`
 * with no runner once a task has been claimed (a recovery keeps the count, a claim raises it and
 * writes a new token; a retry keeps the token). That run's outputs are removed and its lease let go at once, as for a cancel.
 */
export function runOwnership(current: Pick<Task, "run_token" | "attempts" | "runner" | "status">, run: string): "ours" | "canceled" | "superseded" {
  if (runOf(current) !== run) return "superseded";
  if (current.status === "canceled" || retriedSince(current)) return "canceled";
  return current.status === "running" ? "ours" : "superseded";
}

function retriedSince(current: Pick<Task, "attempts" | "runner" | "status">): boolean {
  return current.status === "queued" && current.attempts === 0 && (current.runner ?? null) === null;
}

/**
 * Whether the task's `task.created` event is in the stream. `submit` announces a task as it writes
 * it, with `attempts` present from birth; a file the desktop app wrote itself has no `attempts`
 * until a runner claims it, and the runner announces it then.
 */
export function isAnnounced(task: Pick<Task, "attempts">): boolean {
  return task.attempts !== undefined;
}
