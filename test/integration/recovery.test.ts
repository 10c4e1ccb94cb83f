/**
 * Recovery: a runner killed with SIGKILL in the middle of a task does not lose it. The next runner
 * puts it back in the queue (counting the attempt) and runs it; after MAX_ATTEMPTS deaths it fails
 * with a reason instead of crashing runners forever.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { LONG_TEXT, SENTENCE, cli, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("recovery", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "short.wav", SENTENCE);
    speech(ws, "long.wav", LONG_TEXT);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, media: string, overrides: Record<string, unknown> = {}) =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
      ...overrides,
    });

  test("kill -9 of a runner mid-task: the next runner recovers the task and completes it", async () => {
    dropTask(ws, task("killed_mid_task", "long.wav"));
    const victim = startCli(ws, ["run", "--task", "killed_mid_task"]);
    const victimDone = collect(victim);
    await waitFor("transcription under way", () => readEvents(ws, "killed_mid_task").some((event) => event.type === "stage.progress" && event.payload.progress > 0));
    victim.kill("SIGKILL");
    await victimDone;
    const orphan = readTask(ws, "killed_mid_task");
    assert.equal(orphan.status, "running", "the dead runner could not clean up");
    assert.equal(orphan.attempts, 1);

    const rescuer = await cli(ws, ["run"]);
    assert.equal(rescuer.code, 0, rescuer.stderr);
    assert.match(rescuer.stderr, /recovered task killed_mid_task from a dead runner: requeued/);
    const stored = readTask(ws, "killed_mid_task");
    assert.equal(stored.status, "done");
    assert.equal(stored.attempts, 2);
    assert.ok(existsSync(path.join(ws.dir, "outputs/killed_mid_task.raw.srt")));
    const types = readEvents(ws, "killed_mid_task").map((event) => event.type);
    const recoveredAt = types.indexOf("task.requeued");
    assert.ok(recoveredAt > 0, "a task.requeued event marks the recovery");
    assert.equal(types.filter((type) => type === "task.started").length, 2);
    assert.equal(types.at(-1), "task.completed");
    assert.deepEqual(readdirSync(ws.tasksDir).filter((name) => name.includes("killed_mid_task")), ["20260206_killed_mid_task.task.json"], "the dead runner's lease is gone");
  });

  test("a task whose runner died on every one of 3 attempts fails with the reason", async () => {
    dropTask(ws, task("poison", "short.wav", { status: "running", attempts: 3, runner: { host: hostname(), pid: deadPid(), started_at: "2026-02-06T10:31:00Z" } }));
    const result = await cli(ws, ["run"]);
    assert.equal(result.code, 0, result.stderr);
    const stored = readTask(ws, "poison");
    assert.equal(stored.status, "failed");
    assert.match(String((stored.error as { message: string }).message), /runner died during each of 3 attempts.*sophia-cli retry poison/);
    assert.ok(readEvents(ws, "poison").some((event) => event.type === "task.failed"));
  });

  test("a running task of a runner on another host is recovered only once its lease goes stale", async () => {
    const file = dropTask(ws, task("other_host", "short.wav", { status: "running", attempts: 1, runner: { host: "another-machine", pid: 1, started_at: "2026-02-06T10:31:00Z" } }));
    mkdirSync(`${file}.lease`); // the other runner's lease, fresh
    await cli(ws, ["run"]);
    assert.equal(readTask(ws, "other_host").status, "running", "a live lease is respected");

    rmSync(`${file}.lease`, { recursive: true }); // that runner is gone
    const result = await cli(ws, ["run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readTask(ws, "other_host").status, "done");
  });
});

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}
