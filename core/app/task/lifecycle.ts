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
import { SophiaError } from "../errors.js";
import type { RunnerInfo, Task, TaskStatus } from "./schema.js";

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
 * Whether the task file still describes the run a runner started: the same attempt, by the same
 * runner process. Every write after a claim (by the runner, or by recovery on a dead runner's
 * behalf) checks this first; if not, another runner owns the task now.
 */
export function isSameRun(current: Pick<Task, "attempts" | "runner">, attempt: number | undefined, runner: RunnerInfo | null | undefined): boolean {
  return (
    current.attempts === attempt &&
    current.runner?.host === runner?.host &&
    current.runner?.pid === runner?.pid &&
    current.runner?.started_at === runner?.started_at
  );
}

/**
 * Whether the task's `task.created` event is in the stream. `submit` announces a task as it writes
 * it, with `attempts` present from birth; a file the desktop app wrote itself has no `attempts`
 * until a runner claims it, and the runner announces it then.
 */
export function isAnnounced(task: Pick<Task, "attempts">): boolean {
  return task.attempts !== undefined;
}
