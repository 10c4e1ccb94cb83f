/**
 * The scheduler in-process, with fake stages (test/support/fake_pipeline.ts) on a real task store:
 * duplicate task ids, and a queued task whose lease another process holds.
 */
import assert from "node:assert/strict";
import { mkdirSync, utimesSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { Conflict } from "../../core/app/runner/queue.js";
import type { Lease } from "../../core/app/task/store/lease_keeper.js";
import { TaskRunner, type RunOutcome } from "../../core/app/runner/runner.js";
import { Scheduler } from "../../core/app/runner/scheduler.js";
import { LEASE_STALE_MS, TaskStore } from "../../core/app/task/store/store.js";
import { FakeStage, eventsOf, fakeWorkspace, queueTask, taskOnDisk, type FakeWorkspace } from "../support/fake_pipeline.js";

/** A real task store that counts how often a runner tries to take a lease. */
class FakeCountingStore extends TaskStore {
  leaseAttempts = 0;
  override acquireLease(file: string, onLost: (error: Error) => void): Promise<Lease | null> {
    this.leaseAttempts++;
    return super.acquireLease(file, onLost);
  }
}

/** A real task store whose lease keeper fails in a way that is nobody's fault but the runner's. */
class FakeFaultyLeaseStore extends TaskStore {
  override acquireLease(): Promise<Lease | null> {
    return Promise.reject(new Error("fake fault: the lease keeper is gone"));
  }
}

describe("scheduler (in-process, fake stages)", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const schedulerFor = (store: TaskStore, extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) =>
    new Scheduler({
      runner: new TaskRunner({ store, events: fx.events, stages: [new FakeStage("asr", { finishAtOnce: true })], keepTmp: false, watchdogMs: 20 }),
      store,
      events: fx.events,
      concurrency: 1,
      rescanSec: 0.05,
      ...extra,
    });

  test("two task files with one task_id: neither starts, and the conflict is reported once, naming both files", async () => {
    const first = queueTask(fx.workspace, "twin", {}, "20260206");
    const second = queueTask(fx.workspace, "twin", { created_at: "2026-02-07T10:30:00Z" }, "20260207");
    const other = queueTask(fx.workspace, "single");
    const conflicts: Conflict[] = [];
    const store = new TaskStore(fx.workspace);
    const scheduler = schedulerFor(store, { onConflict: (conflict) => conflicts.push(conflict) });

    const outcomes = [...(await scheduler.drain())];
    queueTask(fx.workspace, "another");
    outcomes.push(...(await scheduler.drain())); // more passes: the conflict is not told again

    assert.deepEqual([...new Set(outcomes.map((outcome) => `${outcome.taskId} ${outcome.kind}`))].sort(), ["another done", "single done"]);
    assert.equal(taskOnDisk(first).status, "queued");
    assert.equal(taskOnDisk(second).status, "queued");
    assert.equal(taskOnDisk(other).status, "done");
    assert.equal(conflicts.length, 1);
    const events = eventsOf(fx.workspace, "twin");
    assert.deepEqual(events.map((event) => event.type), ["task.conflict"]);
    const [conflict] = events;
    assert.ok(conflict?.type === "task.conflict");
    assert.deepEqual(conflict.payload.files, ["workspace/tasks/20260206_twin.task.json", "workspace/tasks/20260207_twin.task.json"]);
    assert.match(conflict.payload.error, /task id "twin" is used by 2 files: 20260206_twin\.task\.json, 20260207_twin\.task\.json/);
  });

  test("watch mode waits quietly for another process's lease on a queued task to go stale, then runs it", async () => {
    const file = queueTask(fx.workspace, "leased_elsewhere");
    // A lease left by a runner that died between taking it and claiming: stale in about 2 s, long
    // enough that the first pass meets it fresh even on a machine stalled by other work.
    mkdirSync(`${file}.lease`);
    const refreshed = new Date(Date.now() - LEASE_STALE_MS + 2000);
    utimesSync(`${file}.lease`, refreshed, refreshed);
    const store = new FakeCountingStore(fx.workspace);
    const outcomes: RunOutcome[] = [];
    const scheduler = schedulerFor(store, { onOutcome: (outcome) => outcomes.push(outcome) });

    const watching = scheduler.watch();
    const deadline = Date.now() + 10_000;
    while (taskOnDisk(file).status !== "done" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await scheduler.stop();
    await watching;

    assert.equal(taskOnDisk(file).status, "done");
    assert.deepEqual(outcomes.map((outcome) => outcome.kind), ["busy", "done"], "the wait is reported once");
    assert.ok(store.leaseAttempts <= 3, `${store.leaseAttempts} tries for the lease`);
  });

  test("a runner fault while running a task is reported as crashed with its reason, never as a quiet skip", async () => {
    queueTask(fx.workspace, "faulty");
    const store = new FakeFaultyLeaseStore(fx.workspace);
    const outcomes = await schedulerFor(store).drain();
    assert.deepEqual(outcomes, [{ kind: "crashed", taskId: "faulty", reason: "fake fault: the lease keeper is gone" }]);
  });
});
