/**
 * The runner in-process when the disk fills up (a fake store whose writes fail with ENOSPC while
 * the test says the disk is full, and a fake stage that hits it): a run whose end cannot be written
 * keeps its lease, so nobody "recovers" it from a live runner, and is recorded as failed with the
 * disk-full error as soon as the task file can be written again.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { writeFailure } from "../../core/app/fs_errors.js";
import type { Stage } from "../../core/app/stages/stage.js";
import type { TransitionName } from "../../core/app/task/model/lifecycle.js";
import { recoverOrphans } from "../../core/app/runner/recovery.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import type { Task } from "../../core/app/task/model/schema.js";
import type { StoredTask } from "../../core/app/task/model/stored_task.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { eventsOf, fakeWorkspace, queueTask, taskOnDisk, type FakeWorkspace } from "../support/fake_pipeline.js";

const noSpace = (what: string) => writeFailure(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }), what);

/** A real store whose task-file writes fail while `full` is set, as on a full disk. */
class FakeFullDiskStore extends TaskStore {
  full = false;

  override transition(file: string, name: TransitionName, change?: (task: Task) => Record<string, unknown>, options?: Parameters<TaskStore["transition"]>[3]): Promise<StoredTask> {
    if (this.full) return Promise.reject(noSpace(`write ${file}`));
    return super.transition(file, name, change, options);
  }
}

/** An asr stage whose output write finds the disk full. */
function fakeStageThatFillsTheDisk(store: FakeFullDiskStore): Stage {
  return {
    name: "asr",
    outputs: (paths) => [paths.raw],
    preflight: async () => undefined,
    run: ({ paths }) => {
      store.full = true;
      return Promise.reject(noSpace(`write ${paths.rawSrt}`));
    },
  };
}

describe("runner on a full disk (in-process, fakes)", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  test("a run whose end cannot be written keeps its lease, is not taken for an orphan, and is recorded as failed once it can be", async () => {
    const store = new FakeFullDiskStore(fx.workspace);
    const runner = new TaskRunner({ store, events: fx.events, stages: [fakeStageThatFillsTheDisk(store)], keepTmp: false });
    const file = queueTask(fx.workspace, "filled");

    const outcome = await runner.run(await store.read(file));
    assert.equal(outcome.kind, "unwritable");
    assert.ok(outcome.kind === "unwritable" && outcome.left === "running" && isSophiaError(outcome.error, "disk_full"));
    assert.equal(taskOnDisk(file).status, "running");
    assert.equal(await store.leaseHeld(file), true, "the lease is kept");
    assert.deepEqual(await recoverOrphans(store, fx.events), [], "a live runner's task is not recovered");
    assert.deepEqual(await runner.settleStranded(), [], "still full: nothing recorded yet");

    store.full = false;
    const [settled, ...rest] = await runner.settleStranded();
    assert.equal(rest.length, 0);
    assert.equal(settled?.kind, "failed");
    const stored = taskOnDisk(file);
    assert.equal(stored.status, "failed");
    const error = stored.error as { code: string; message: string };
    assert.equal(error.code, "disk_full");
    assert.match(error.message, /^the run could not be recorded: cannot write .*: no space left on the disk/);
    assert.equal(await store.leaseHeld(file), false, "the lease is let go once recorded");
    assert.equal(eventsOf(fx.workspace, "filled").filter((event) => event.type === "task.failed").length, 1);
    assert.deepEqual(await runner.settleStranded(), []);
  });

  test("a runner that exits with a run it could not record leaves the lease to go stale, not removed", async () => {
    const store = new FakeFullDiskStore(fx.workspace);
    const runner = new TaskRunner({ store, events: fx.events, stages: [fakeStageThatFillsTheDisk(store)], keepTmp: false });
    const file = queueTask(fx.workspace, "left_behind");
    assert.equal((await runner.run(await store.read(file))).kind, "unwritable");
    await runner.abandonStranded();
    assert.equal(taskOnDisk(file).status, "running", "left for the next runner to recover");
    assert.equal(await store.leaseHeld(file), true, "not removed: it goes stale, or this process dies first");
  });
});
