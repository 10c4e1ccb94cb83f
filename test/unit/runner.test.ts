/**
 * The runner in-process, with fake stages (test/support/fake_pipeline.ts) on a real task store:
 * cancel, shutdown, lease loss and takeover, each in well under a second. Who owns a run decides
 * who may write the task file and remove outputs.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { writeFileAtomically } from "../../core/app/atomic_write.js";
import type { Stage } from "../../core/app/stages/stage.js";
import { cancelTask, retryTask } from "../../core/app/control.js";
import { recoverOrphans } from "../../core/app/runner/recovery.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { FakeStage, FakeLeaseStore, aborted, eventsOf, fakeWorkspace, queueTask, taskOnDisk, type FakeWorkspace } from "../support/fake_pipeline.js";
import { taskFolder } from "../support/task_folder.js";

describe("runner (in-process, fake stages)", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const runnerFor = (store: TaskStore, stage: Stage, watchdogMs = 20) =>
    new TaskRunner({ store, events: fx.events, stages: [stage], keepTmp: false, watchdogMs });
  const abortedEvent = (taskId: string) => eventsOf(fx.workspace, taskId).find((event) => event.type === "stage.aborted")?.payload;

  test("a stage whose skipReason names one is skipped with that reason, by any name", async () => {
    const store = new TaskStore(fx.workspace);
    const stage = Object.assign(new FakeStage("asr", { finishAtOnce: true }), { skipReason: () => "the task turns it off" });
    const file = queueTask(fx.workspace, "skipping");
    assert.deepEqual(await runnerFor(store, stage).run(await store.read(file)), { kind: "done", taskId: "skipping" });
    assert.equal(stage.runs.length, 0);
    const skipped = eventsOf(fx.workspace, "skipping").find((event) => event.type === "stage.skipped")?.payload;
    assert.deepEqual(skipped, { stage: "asr", reason: "the task turns it off" });
  });

  test("cancel stops a running task, removes the output it created, and leaves no lease", async () => {
    const store = new TaskStore(fx.workspace);
    const stage = new FakeStage("asr");
    const file = queueTask(fx.workspace, "to_cancel");
    const outcome = runnerFor(store, stage).run(await store.read(file));
    const run = await stage.nextRun();
    assert.ok(existsSync(run.context.paths.rawSrt));

    const canceled = await cancelTask(store, fx.events, "to_cancel", 5_000);
    assert.equal(canceled.stopped, true, "the runner let go of its lease");
    assert.deepEqual(await outcome, { kind: "canceled", taskId: "to_cancel" });
    assert.equal(taskOnDisk(file).status, "canceled");
    assert.ok(!existsSync(run.context.paths.rawSrt));
    assert.deepEqual(abortedEvent("to_cancel"), { stage: "asr", reason: "canceled", removed: ["workspace/outputs/to_cancel.raw.srt"] });
    assert.deepEqual(taskFolder(fx.workspace.tasksDir), [path.basename(file)], "no lock or lease left");
  });

  test("cancel then retry at once: the old run ends as canceled, lets go of its lease, and the retried task starts without waiting for it to go stale", { timeout: 30_000 }, async () => {
    const store = new TaskStore(fx.workspace);
    const stage = new FakeStage("asr");
    const file = queueTask(fx.workspace, "cancel_retry");
    const first = runnerFor(store, stage).run(await store.read(file));
    const run = await stage.nextRun();
    await cancelTask(store, fx.events, "cancel_retry", 0);
    await retryTask(store, fx.events, "cancel_retry");
    assert.deepEqual(await first, { kind: "canceled", taskId: "cancel_retry" }, "the user's cancel, not another runner's takeover");
    assert.ok(!existsSync(run.context.paths.rawSrt), "its output removed, as for any cancel");
    assert.deepEqual(abortedEvent("cancel_retry"), { stage: "asr", reason: "canceled", removed: ["workspace/outputs/cancel_retry.raw.srt"] });
    const second = runnerFor(store, new FakeStage("asr", { finishAtOnce: true })).run(await store.read(file));
    assert.deepEqual(await second, { kind: "done", taskId: "cancel_retry" }, "not busy: the lease was let go");
  });

  test("a cancel that lands while the stage is returning still removes the file the stage wrote", async () => {
    const store = new FakeLeaseStore(fx.workspace);
    const stage = new FakeStage("asr", { ignoreAbort: true, writeAfterFinish: true });
    const file = queueTask(fx.workspace, "late_cancel");
    const outcome = runnerFor(store, stage).run(await store.read(file));
    const run = await stage.nextRun();
    await cancelTask(store, fx.events, "late_cancel", 0);
    await aborted(run.context.signal);
    run.finish(); // the stage writes its output and returns as if nothing happened

    assert.deepEqual(await outcome, { kind: "canceled", taskId: "late_cancel" });
    assert.ok(!existsSync(run.context.paths.rawSrt), "the output written as the cancel landed is gone");
    assert.deepEqual(abortedEvent("late_cancel")?.removed, ["workspace/outputs/late_cancel.raw.srt"]);
  });

  test("cancel leaves alone an output file that was there before the stage ran", async () => {
    const store = new FakeLeaseStore(fx.workspace);
    const stage = new FakeStage("asr");
    const shared = path.join(fx.workspace.outputsDir, "shared.raw.srt");
    mkdirSync(path.dirname(shared), { recursive: true });
    writeFileSync(shared, "subtitles of an earlier task\n");
    const file = queueTask(fx.workspace, "second_writer", { output: { raw_srt: "workspace/outputs/shared.raw.srt" } });
    const outcome = runnerFor(store, stage).run(await store.read(file));
    await stage.nextRun();
    await cancelTask(store, fx.events, "second_writer", 0);

    assert.equal((await outcome).kind, "canceled");
    assert.ok(existsSync(shared), "a file this attempt did not create is not this attempt's to remove");
    assert.deepEqual(abortedEvent("second_writer")?.removed, []);
  });

  test("cancel leaves alone an output another task wrote over after this attempt created it", async () => {
    const store = new FakeLeaseStore(fx.workspace);
    const asr = new FakeStage("asr", { finishAtOnce: true });
    const refine = new FakeStage("refine");
    const file = queueTask(fx.workspace, "first_writer", { pipeline: ["asr", "refine"], output: { raw_srt: "workspace/outputs/shared.raw.srt" } });
    const runner = new TaskRunner({ store, events: fx.events, stages: [asr, refine], keepTmp: false, watchdogMs: 20 });
    const outcome = runner.run(await store.read(file));
    const run = await refine.nextRun();
    await writeFileAtomically(run.context.paths.rawSrt, "subtitles of another task, written since\n");
    await cancelTask(store, fx.events, "first_writer", 0);

    assert.equal((await outcome).kind, "canceled");
    assert.equal(readFileSync(run.context.paths.rawSrt, "utf8"), "subtitles of another task, written since\n");
    assert.ok(!existsSync(run.context.paths.refinedSrt), "what this attempt did create is removed");
    assert.deepEqual(abortedEvent("first_writer")?.removed, ["workspace/outputs/subtitles/refined/media.first_writer.refined.srt"]);
  });

  test("shutdown hands the task back to the queue, the attempt uncounted, its output removed", async () => {
    const store = new FakeLeaseStore(fx.workspace);
    const stage = new FakeStage("asr");
    const file = queueTask(fx.workspace, "interrupted");
    const runner = runnerFor(store, stage);
    const outcome = runner.run(await store.read(file));
    const run = await stage.nextRun();
    runner.shutdown();

    assert.deepEqual(await outcome, { kind: "handed_back", taskId: "interrupted" });
    const stored = taskOnDisk(file);
    assert.equal(stored.status, "queued");
    assert.equal(stored.attempts, 0);
    assert.equal(stored.runner, null);
    assert.ok(!existsSync(run.context.paths.rawSrt));
    assert.deepEqual(eventsOf(fx.workspace, "interrupted").map((event) => event.type).slice(-2), ["stage.aborted", "task.requeued"]);
  });

  test("a runner that loses its lease is superseded: it writes no status and removes nothing, not even _tmp", async () => {
    const store = new FakeLeaseStore(fx.workspace);
    const stage = new FakeStage("asr");
    const file = queueTask(fx.workspace, "lease_lost");
    const outcome = runnerFor(store, stage).run(await store.read(file));
    const run = await stage.nextRun();
    const tmpFile = path.join(fx.workspace.tmpDir("lease_lost"), "transcript.json");
    await writeFileAtomically(tmpFile, "{}");
    store.leases.get(file)?.lose();

    assert.deepEqual(await outcome, { kind: "superseded", taskId: "lease_lost" });
    assert.equal(taskOnDisk(file).status, "running", "the task file is the new owner's: untouched");
    assert.ok(existsSync(run.context.paths.rawSrt), "outputs untouched");
    assert.ok(existsSync(tmpFile), "_tmp untouched");
    assert.deepEqual(abortedEvent("lease_lost"), { stage: "asr", reason: "superseded", removed: [] });
  });

  test("a runner resumed after another took its task over and finished it is superseded, not canceled, and touches nothing", async () => {
    // Runner A is "frozen": its watchdog never looks, and its lease has silently gone stale.
    const storeA = new FakeLeaseStore(fx.workspace);
    const stageA = new FakeStage("asr");
    const file = queueTask(fx.workspace, "taken_over");
    const outcomeA = runnerFor(storeA, stageA, 60_000).run(await storeA.read(file));
    const runA = await stageA.nextRun();

    // Runner B recovers the task (A's lease is not fresh) and runs it to the end.
    const storeB = new TaskStore(fx.workspace);
    assert.deepEqual(await recoverOrphans(storeB, fx.events), [{ taskId: "taken_over", action: "requeued" }]);
    const stageB = new FakeStage("asr", { finishAtOnce: true });
    assert.equal((await runnerFor(storeB, stageB).run(await storeB.read(file))).kind, "done");
    const doneByB = taskOnDisk(file);

    runA.finish(); // A resumes where it stopped, at the end of its stage
    assert.deepEqual(await outcomeA, { kind: "superseded", taskId: "taken_over" });
    assert.deepEqual(taskOnDisk(file), doneByB, "A wrote nothing to the task file");
    assert.equal(readFileSync(runA.context.paths.rawSrt, "utf8"), "asr output of taken_over\n", "B's output is still there");
    assert.deepEqual(abortedEvent("taken_over"), { stage: null, reason: "superseded", removed: [] });
  });
});
