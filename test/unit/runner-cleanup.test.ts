/**
 * What a run leaves behind, in-process with fake stages: `outputs/_tmp/<task_id>` is removed however
 * the run ends (done, failed, canceled) unless the task asks to keep it, and a stage's progress
 * reaches the event stream at most once per half second, however often the stage reports.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { writeFileAtomically } from "../../core/app/atomic_write.js";
import type { Stage, StageContext } from "../../core/app/stages/stage.js";
import { cancelTask } from "../../core/app/control.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { FakeStage, eventsOf, fakeWorkspace, queueTask, type FakeWorkspace } from "../support/fake_pipeline.js";

describe("what a run leaves behind (in-process, fake stages)", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const runnerFor = (store: TaskStore, stage: Stage, keepTmp = false) => new TaskRunner({ store, events: fx.events, stages: [stage], keepTmp, watchdogMs: 20 });

  /** Starts `taskId` with a fake asr stage and puts a scratch file in its _tmp folder, as the real asr does. */
  async function startWithScratch(taskId: string, overrides: Record<string, unknown> = {}, keepTmp = false) {
    const store = new TaskStore(fx.workspace);
    const stage = new FakeStage("asr");
    const file = queueTask(fx.workspace, taskId, overrides);
    const outcome = runnerFor(store, stage, keepTmp).run(await store.read(file));
    const run = await stage.nextRun();
    const scratch = path.join(fx.workspace.tmpDir(taskId), "transcript.json");
    mkdirSync(path.dirname(scratch), { recursive: true });
    writeFileSync(scratch, "{}");
    return { store, run, outcome, scratch };
  }

  test("a task that ends done leaves no _tmp", async () => {
    const { run, outcome, scratch } = await startWithScratch("tmp_done");
    run.finish();
    assert.equal((await outcome).kind, "done");
    assert.ok(!existsSync(path.dirname(scratch)), "_tmp removed");
  });

  test("a task that is canceled leaves no _tmp", async () => {
    const { store, outcome, scratch } = await startWithScratch("tmp_canceled");
    await cancelTask(store, fx.events, "tmp_canceled", 5_000);
    assert.equal((await outcome).kind, "canceled");
    assert.ok(!existsSync(path.dirname(scratch)), "_tmp removed");
  });

  test("a task whose stage fails leaves no _tmp", async () => {
    const store = new TaskStore(fx.workspace);
    const file = queueTask(fx.workspace, "tmp_failed");
    const failing: Stage = {
      name: "asr",
      outputs: (paths) => [paths.raw],
      preflight: async () => undefined,
      run: async () => {
        mkdirSync(fx.workspace.tmpDir("tmp_failed"), { recursive: true });
        writeFileSync(path.join(fx.workspace.tmpDir("tmp_failed"), "transcript.json"), "{}");
        throw new Error("fake engine crash");
      },
    };
    assert.equal((await runnerFor(store, failing).run(await store.read(file))).kind, "failed");
    assert.ok(!existsSync(fx.workspace.tmpDir("tmp_failed")), "_tmp removed");
  });

  test("keep_tmp, asked by the task or the runner, keeps _tmp", async () => {
    const byTask = await startWithScratch("tmp_kept_by_task", { config_snapshot: { engine: { type: "faster_whisper" }, debug: { keep_tmp: true } } });
    byTask.run.finish();
    assert.equal((await byTask.outcome).kind, "done");
    assert.ok(existsSync(byTask.scratch), "_tmp kept for the task");
    const byRunner = await startWithScratch("tmp_kept_by_runner", {}, true);
    byRunner.run.finish();
    assert.equal((await byRunner.outcome).kind, "done");
    assert.ok(existsSync(byRunner.scratch), "_tmp kept for the runner");
  });

  test("a stage that reports progress every 10 ms gets one event per half second at most", async () => {
    const store = new TaskStore(fx.workspace);
    const file = queueTask(fx.workspace, "chatty");
    const reports = 30;
    let spanMs = 0;
    const chatty: Stage = {
      name: "asr",
      outputs: (paths) => [paths.raw],
      preflight: async () => undefined,
      run: async ({ paths, progress }: StageContext) => {
        const started = performance.now();
        for (let i = 1; i <= reports; i++) {
          progress(i / (reports + 1), `step ${i}`);
          await sleep(10);
        }
        spanMs = performance.now() - started;
        await writeFileAtomically(paths.rawSrt, "");
        return { artifacts: [{ path: paths.rawSrt, kind: "raw_srt" }], summary: {} };
      },
    };
    assert.equal((await runnerFor(store, chatty).run(await store.read(file))).kind, "done");
    const progressEvents = eventsOf(fx.workspace, "chatty").filter((event) => event.type === "stage.progress").length;
    // The bound follows the time the reports really took (a loaded machine stretches it): the first
    // at once, then one per 500 ms. Without the throttle every report would be an event.
    const allowed = 1 + Math.floor(spanMs / 500);
    assert.ok(progressEvents >= 1 && progressEvents <= allowed, `${progressEvents} progress events for ${reports} reports over ${Math.round(spanMs)} ms (at most ${allowed})`);
    assert.ok(allowed < reports, `the reports took ${Math.round(spanMs)} ms: too slow to tell a throttle from none`);
  });

  test("what a run records: a failure's code, message and stack with its cause; a completion's duration in seconds", async () => {
    const store = new TaskStore(fx.workspace);
    const file = queueTask(fx.workspace, "records_failure");
    const crashing: Stage = {
      name: "asr",
      outputs: (paths) => [paths.raw],
      preflight: async () => undefined,
      run: async () => {
        throw new Error("fake engine crash", { cause: new Error("fake root cause") });
      },
    };
    const outcome = await runnerFor(store, crashing).run(await store.read(file));
    assert.equal(outcome.kind, "failed");
    const failed = (await store.read(file)).task;
    assert.equal(failed.error?.code, "internal", "an error that is not a SophiaError is internal");
    assert.equal(failed.error?.message, "fake engine crash");
    assert.equal(failed.error?.stage, "asr");
    assert.match(failed.error?.stack ?? "", /fake engine crash[\s\S]*Caused by: Error: fake root cause/);
    const event = eventsOf(fx.workspace, "records_failure").find((e) => e.type === "task.failed")?.payload as { error: string; stack: string } | undefined;
    assert.equal(event?.error, "fake engine crash");
    assert.match(event?.stack ?? "", /Caused by: Error: fake root cause/);

    const done = await startWithScratch("records_duration");
    await sleep(50);
    done.run.finish();
    assert.equal((await done.outcome).kind, "done");
    const completed = eventsOf(fx.workspace, "records_duration").find((e) => e.type === "task.completed")?.payload as { duration_sec: number } | undefined;
    // Seconds, not milliseconds: the run took at least the 50 ms waited and far less than a minute.
    assert.ok(completed && completed.duration_sec >= 0.05 && completed.duration_sec < 60, JSON.stringify(completed));
  });
});
