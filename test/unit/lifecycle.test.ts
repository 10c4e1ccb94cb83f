/**
 * The status lifecycle as the spec draws it (§ lifecycle), written out here rather than read from
 * the code's table: every edge allowed, every other refused with a message that says which statuses
 * the transition needs and what to do next.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import type { TaskStatus } from "../../core/app/task/model/task_status.js";
import { TRANSITIONS, assertTransition, canTransition, isAnnounced, type TransitionName } from "../../core/app/task/model/lifecycle.js";

const STATUSES = ["queued", "running", "done", "failed", "canceled"] as const;

/** The spec's diagram: transition → the statuses it leaves from, the status it leads to, and its words in a refusal. */
const SPEC: Record<TransitionName, { from: TaskStatus[]; to: TaskStatus; verb: string; past: string }> = {
  claim: { from: ["queued"], to: "running", verb: "start", past: "started" },
  complete: { from: ["running"], to: "done", verb: "complete", past: "completed" },
  fail: { from: ["running"], to: "failed", verb: "fail", past: "failed" },
  cancel: { from: ["queued", "running"], to: "canceled", verb: "cancel", past: "canceled" },
  retry: { from: ["failed", "canceled"], to: "queued", verb: "retry", past: "retried" },
  hand_back: { from: ["running"], to: "queued", verb: "hand back", past: "handed back" },
  recover: { from: ["running"], to: "queued", verb: "recover", past: "recovered" },
  abandon: { from: ["running"], to: "failed", verb: "abandon", past: "abandoned" },
};

const HINT: Record<string, string> = {
  done: "; submit a new task to run it again",
  failed: "; `sophia-cli retry <id>` queues it again",
  canceled: "; `sophia-cli retry <id>` queues it again",
  queued: "",
  running: "",
};

describe("the status lifecycle", { timeout: 30_000 }, () => {
  test("the transitions are the spec's, each to the spec's status", () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), Object.keys(SPEC).sort());
    for (const [name, edge] of Object.entries(SPEC)) assert.equal(TRANSITIONS[name as TransitionName].to, edge.to, name);
  });

  test("every edge of the diagram is allowed and every other refused", () => {
    for (const [name, edge] of Object.entries(SPEC)) {
      for (const status of STATUSES) assert.equal(canTransition(name as TransitionName, status), edge.from.includes(status), `${name} from ${status}`);
    }
  });

  test("a refused transition says what it is, what it needs and what to do next, with its details", () => {
    for (const [name, edge] of Object.entries(SPEC)) {
      for (const status of STATUSES.filter((s) => !edge.from.includes(s))) {
        assert.throws(
          () => assertTransition(name as TransitionName, "t1", status),
          (error) => {
            assert.ok(isSophiaError(error, "transition_refused"), String(error));
            assert.equal(error.message, `cannot ${edge.verb} task t1: it is ${status} (only ${edge.from.join(" or ")} tasks can be ${edge.past})${HINT[status]}`);
            assert.deepEqual(error.details, { task_id: "t1", status, transition: name });
            return true;
          },
        );
      }
      for (const status of edge.from) assert.doesNotThrow(() => assertTransition(name as TransitionName, "t1", status));
    }
  });

  test("a task is announced once it has attempts (submit writes them), not when the app wrote it without", () => {
    assert.equal(isAnnounced({ attempts: 0 }), true);
    assert.equal(isAnnounced({ attempts: 2 }), true);
    assert.equal(isAnnounced({}), false);
  });
});
