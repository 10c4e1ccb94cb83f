/**
 * Watch mode: one long-running runner picks up task files as they appear, keeps its model loaded
 * between tasks, survives its engine worker crashing, and on SIGTERM hands the task it was running
 * back to the queue and exits promptly. The tests share that one runner, in order.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { LONG_TEXT, SENTENCE, cli, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, startCli, waitFor, type CliResult, type TestWorkspace } from "../support/harness.js";

describe("watch", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;
  let watcher: ChildProcess;
  let exit: Promise<CliResult>;
  let stderr = "";

  before(async () => {
    ws = makeWorkspace();
    speech(ws, "short.wav", SENTENCE);
    speech(ws, "long.wav", LONG_TEXT);
    // A long rescan interval: pickup must come from the file notification.
    watcher = startCli(ws, ["run", "--watch", "--rescan-interval", "600"]);
    // The watcher lives through every test of this file: its limit is the whole file's, not one task's.
    exit = collect(watcher, 600_000);
    watcher.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor("the watcher to start", () => stderr.includes("watching"), 20_000);
  });
  after(() => {
    watcher.kill("SIGKILL");
    rmSync(ws.root, { recursive: true, force: true });
  });

  let minute = 0;
  const task = (taskId: string, media: string) =>
    specExampleTask({
      task_id: taskId,
      created_at: `2026-02-06T10:${String(minute++).padStart(2, "0")}:00Z`,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });
  const asrSummary = (taskId: string) => {
    const completed = readEvents(ws, taskId).find((event) => event.type === "stage.completed" && event.payload.stage === "asr");
    assert.ok(completed?.type === "stage.completed", `${taskId} finished asr`);
    return completed.payload.summary as { model_cached: boolean; model_path: string; model_load_sec: number | null };
  };
  const runToDone = async (taskId: string) => {
    dropTask(ws, task(taskId, "short.wav"));
    await waitFor(`${taskId} done`, () => ["done", "failed"].includes(String(readTask(ws, taskId).status)) && readTask(ws, taskId), 60_000);
    assert.equal(readTask(ws, taskId).status, "done", JSON.stringify(readTask(ws, taskId).error));
  };

  test("picks up new task files as they appear, and loads the model once for all of them", async () => {
    await runToDone("first");
    await runToDone("second");
    assert.equal(asrSummary("first").model_cached, false);
    assert.equal(asrSummary("second").model_cached, true, "the second task reused the loaded model");
    assert.equal(asrSummary("second").model_path, asrSummary("first").model_path);
  });

  test("a task file the app writes in two goes is run once complete, not rejected half-written", async () => {
    const file = path.join(ws.tasksDir, "20260206_slow_writer.task.json");
    const text = `${JSON.stringify(task("slow_writer", "short.wav"), null, 2)}\n`;
    writeFileSync(file, text.slice(0, 100));
    await sleep(400);
    writeFileSync(file, text);
    await waitFor("slow_writer done", () => readTask(ws, "slow_writer").status === "done", 60_000);
    assert.ok(!readEvents(ws, "slow_writer").some((event) => event.type === "task.rejected"));
    assert.ok(!stderr.includes("slow_writer.task.json"), "no complaint about the half-written file");
  });

  test("a crash of the engine worker fails that task with the worker's own error; the next task gets a fresh worker", async () => {
    dropTask(ws, task("crashed", "long.wav"));
    await waitFor("the crashed task's asr under way", () => readEvents(ws, "crashed").some((event) => event.type === "stage.started"), 30_000);
    const [worker] = childPids(watcher.pid as number);
    assert.ok(worker, "the runner has a worker process");
    assert.match(readFileSync(`/proc/${worker}/cmdline`, "utf8"), /worker\.py/);
    process.kill(worker, "SIGKILL");

    await waitFor("the crashed task failed", () => readTask(ws, "crashed").status === "failed", 30_000);
    const error = readTask(ws, "crashed").error as { code: string; message: string; stage: string };
    assert.equal(error.code, "worker_crashed");
    assert.equal(error.stage, "asr");
    assert.match(error.message, new RegExp(`faster_whisper worker ${worker} died \\(killed by SIGKILL\\)`));

    await runToDone("after_crash");
    assert.equal(asrSummary("after_crash").model_cached, false, "a fresh worker loaded the model again");
  });

  test("a cancel kills the worker, yet the next task finds the model loaded: a replacement loaded it meanwhile", async () => {
    dropTask(ws, task("canceled", "long.wav"));
    // Once the model is reported, the worker is inside the request: the cancel has to kill it.
    await waitFor("the canceled task's model loaded", () => readEvents(ws, "canceled").some((event) => event.type === "stage.progress" && /^(model |transcribing )/.test(event.payload.msg)), 60_000);
    const [killed] = childPids(watcher.pid as number);
    const canceled = await cli(ws, ["cancel", "canceled"]);
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.equal(readTask(ws, "canceled").status, "canceled");

    await runToDone("after_cancel");
    assert.equal(asrSummary("after_cancel").model_cached, true, "the model was loaded before the task asked for it");
    assert.equal(asrSummary("after_cancel").model_load_sec, 0);
    assert.ok(killed !== undefined && !childPids(watcher.pid as number).includes(killed), "the canceled task's worker is gone");
  });

  test("reports a broken task file once, and on SIGTERM hands the running task back and exits", async () => {
    writeFileSync(path.join(ws.tasksDir, "20260206_broken.task.json"), "{ not json");
    dropTask(ws, task("long", "long.wav"));
    await waitFor("the long task under way", () => readEvents(ws, "long").some((event) => event.type === "stage.progress" && event.payload.progress > 0), 60_000);

    const stopping = Date.now();
    watcher.kill("SIGTERM");
    const result = await exit;
    const stopSeconds = (Date.now() - stopping) / 1000;
    process.stdout.write(`# watch runner stopped ${stopSeconds.toFixed(2)} s after SIGTERM\n`);
    assert.equal(result.code, 0, result.stderr);
    // Against a hang: the stop takes about as long as a cancel (a second); 30 s is well over 10× that under load.
    assert.ok(stopSeconds < 30, `took ${stopSeconds} s to stop`);

    const handedBack = readTask(ws, "long");
    assert.equal(handedBack.status, "queued");
    assert.equal(handedBack.attempts, 0, "an interrupted attempt does not count");
    assert.equal(handedBack.runner, null);
    assert.ok(!existsSync(path.join(ws.dir, "outputs/long.raw.srt")));
    const types = readEvents(ws, "long").map((event) => event.type);
    assert.deepEqual(types.slice(-2), ["stage.aborted", "task.requeued"]);
    assert.equal(stderr.match(/skipping .*20260206_broken\.task\.json/g)?.length, 1, "the broken file is reported once");
  });
});

/** Child processes of `pid` (Linux /proc). */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}
