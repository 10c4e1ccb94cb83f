/**
 * Recovery in-process, on a real task store: what a runner that died leaves behind on a task the
 * user canceled meanwhile (its lease, its _tmp folder) is removed; a live runner's is not.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { openWorkspace } from "../../core/app/open_workspace.js";
import { cancelTask } from "../../core/app/control.js";
import { recoverOrphans } from "../../core/app/runner/recovery.js";
import { LEASE_STALE_MS, TaskStore } from "../../core/app/task/store/store.js";
import { FakeStage, eventsOf, fakeWorkspace, queueTask, type FakeWorkspace } from "../support/fake_pipeline.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import { taskFolder } from "../support/task_folder.js";

describe("recovery (in-process)", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const canceledWhileRunning = (taskId: string, pid: number) => {
    const file = queueTask(fx.workspace, taskId, { status: "canceled", attempts: 1, runner: { host: hostname(), pid, started_at: "2026-02-06T10:31:00Z" } });
    mkdirSync(`${file}.lease`); // fresh: its runner was killed a moment ago
    mkdirSync(fx.workspace.tmpDir(taskId), { recursive: true });
    return file;
  };

  test("a canceled task whose runner died leaves no lease and no _tmp once the next runner looks", async () => {
    const file = canceledWhileRunning("canceled_then_killed", deadPid());
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(taskFolder(fx.workspace.tasksDir), [path.basename(file)]);
    assert.ok(!existsSync(fx.workspace.tmpDir("canceled_then_killed")));
  });

  test("the lease and _tmp of a live runner still stopping a canceled task are left alone", async () => {
    const file = canceledWhileRunning("canceled_and_stopping", process.pid);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.ok(existsSync(`${file}.lease`));
    assert.ok(existsSync(fx.workspace.tmpDir("canceled_and_stopping")));
  });

  test("a claim lock and a temporary task file left by a writer killed mid-write are removed", async () => {
    const file = queueTask(fx.workspace, "written_when_killed", { status: "done", attempts: 1 });
    mkdirSync(`${file}.lock`);
    age(`${file}.lock`, 6_000); // past the claim lock's stale time
    writeFileSync(`${file}.3141592653`, "{ half a task file");
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(taskFolder(fx.workspace.tasksDir), [path.basename(file)]);
  });

  test("a queued task's lease stale for long is removed; one just stale is left for the next claim to take over", async () => {
    const abandoned = queueTask(fx.workspace, "abandoned_lease");
    const justStale = queueTask(fx.workspace, "just_stale_lease");
    mkdirSync(`${abandoned}.lease`);
    age(`${abandoned}.lease`, 4 * LEASE_STALE_MS);
    mkdirSync(`${justStale}.lease`);
    age(`${justStale}.lease`, LEASE_STALE_MS + 1_000);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.ok(!existsSync(`${abandoned}.lease`));
    assert.ok(existsSync(`${justStale}.lease`));
  });

  test("an orphan's half-written output (its writer was killed before the rename) goes when the orphan is recovered", async () => {
    queueTask(fx.workspace, "killed_writing", { status: "running", attempts: 1, runner: { host: hostname(), pid: deadPid(), started_at: "2026-02-06T10:31:00Z" } });
    const partial = path.join(fx.workspace.outputsDir, "killed_writing.raw.srt.2718281828");
    mkdirSync(path.dirname(partial), { recursive: true });
    writeFileSync(partial, "1\n00:00:00,000 --> 00:00");
    age(partial, 5_000);
    assert.deepEqual(await recoverOrphans(new TaskStore(fx.workspace), fx.events), [{ taskId: "killed_writing", action: "requeued" }]);
    assert.ok(!existsSync(partial));
  });
});

describe("a runner killed on this host (kill -9), its lease still fresh", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const runningUnderDeadRunner = (taskId: string) => {
    const file = queueTask(fx.workspace, taskId, { status: "running", attempts: 1, started_at: "2026-02-06T10:31:00Z", runner: { host: hostname(), pid: deadPid(), started_at: "2026-02-06T10:31:00Z" } });
    mkdirSync(`${file}.lease`); // fresh: it would hold for LEASE_STALE_MS
    return file;
  };

  test("`status` shows it as gone at once (spec rule (a)), not alive until its lease goes stale", { timeout: 30_000 }, async () => {
    runningUnderDeadRunner("killed_runner");
    const status = await openWorkspace({ workspace: fx.workspace.dir }).status();
    assert.deepEqual(status.running.map((task) => [task.id, task.orphaned]), [["killed_runner", true]]);
    assert.deepEqual(status.runners, [], "no live runner");
  });

  test("`cancel` does not wait on it: its runner is already stopped", { timeout: 30_000 }, async () => {
    runningUnderDeadRunner("canceled_after_kill");
    const canceled = await cancelTask(new TaskStore(fx.workspace), fx.events, "canceled_after_kill", 1_000);
    assert.equal(canceled.stopped, true, "a wait of 1 s would end with the lease still fresh");
  });
});

describe("the events a runner killed by kill -9 never wrote", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  const lifecycle = (taskId: string) =>
    eventsOf(fx.workspace, taskId)
      .filter((event) => event.type.startsWith("task."))
      .map((event) => `${event.type}${(event.payload as { recovered?: boolean }).recovered ? " (recovered)" : ""}`);

  test("a task left done without its task.completed gets it, marked recovered, exactly once", { timeout: 30_000 }, async () => {
    const file = queueTask(fx.workspace, "done_unannounced", { status: "done", attempts: 1, started_at: ago(20_000), finished_at: ago(15_000), runner: null, run_token: "0123abcd" });
    const { task } = await new TaskStore(fx.workspace).read(file);
    await fx.events.emit(task, "task.created", { input: task.input.media });
    await fx.events.emit(task, "task.started", { pipeline: task.pipeline });
    mkdirSync(`${file}.lease`);
    age(`${file}.lease`, LEASE_STALE_MS + 1_000); // its runner died holding it, before the event
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(lifecycle("done_unannounced"), ["task.created", "task.started", "task.completed (recovered)"]);
    const completed = eventsOf(fx.workspace, "done_unannounced").find((event) => event.type === "task.completed");
    assert.deepEqual(completed?.payload, { duration_sec: 5, recovered: true });
  });

  test("a task the app wrote, claimed by a runner killed before announcing it, gets its task.created and task.started before it is requeued, once", { timeout: 30_000 }, async () => {
    const file = queueTask(fx.workspace, "claimed_then_killed", { status: "running", attempts: 1, started_at: ago(1_000), runner: { host: hostname(), pid: deadPid(), started_at: ago(1_000) }, run_token: "4567cdef" });
    mkdirSync(`${file}.lease`);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(lifecycle("claimed_then_killed"), ["task.created (recovered)", "task.started (recovered)", "task.requeued"]);
  });

  test("a submitted task whose submit was killed before its task.created gets it once its lease is stale: from the next runner, or from the sweep", { timeout: 30_000 }, async () => {
    const killedSubmit = (taskId: string, staleMs: number) => {
      const file = queueTask(fx.workspace, taskId, { attempts: 0 });
      mkdirSync(`${file}.lease`); // store.create holds it until the event is written
      age(`${file}.lease`, staleMs);
      return file;
    };
    const file = killedSubmit("submit_killed", LEASE_STALE_MS + 1_000);
    const store = new TaskStore(fx.workspace);
    const runner = new TaskRunner({ store, events: fx.events, stages: [new FakeStage("asr", { finishAtOnce: true })], keepTmp: false, watchdogMs: 20 });
    assert.equal((await runner.run(await store.read(file))).kind, "done");
    assert.deepEqual(lifecycle("submit_killed"), ["task.created (recovered)", "task.started", "task.completed"]);

    killedSubmit("submit_killed_long_ago", 4 * LEASE_STALE_MS);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(lifecycle("submit_killed_long_ago"), ["task.created (recovered)"]);
  });

  test("events already in the stream are not written again", { timeout: 30_000 }, async () => {
    const file = queueTask(fx.workspace, "announced_then_killed", { status: "running", attempts: 1, started_at: ago(1_000), runner: { host: hostname(), pid: deadPid(), started_at: ago(1_000) }, run_token: "89abef01" });
    const { task } = await new TaskStore(fx.workspace).read(file);
    await fx.events.emit(task, "task.created", { input: task.input.media });
    await fx.events.emit(task, "task.started", { pipeline: task.pipeline });
    mkdirSync(`${file}.lease`);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(lifecycle("announced_then_killed"), ["task.created", "task.started", "task.requeued"]);
  });
});

function age(file: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(file, then, then);
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}
