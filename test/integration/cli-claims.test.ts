/**
 * What the README and spec promise of the CLI's exits and views, through the real CLI: an interrupted
 * `run --task` or batch `run` exits 130 with the task back in the queue; a second signal exits at
 * once, leaving the task `running` for the next runner, which `status` shows as orphaned until then;
 * `list` shows an invalid task file with its reason; a duplicate id is refused with exit 4; a claim
 * lock is not taken over before it is 5 s old.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { syntheticSrt } from "../support/synthetic_srt.js";
import { LONG_TEXT, SENTENCE, cli, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("the CLI's promised exits and views", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "long.wav", LONG_TEXT);
    speech(ws, "short.wav", SENTENCE);
    mkdirSync(path.join(ws.dir, "outputs"), { recursive: true });
    writeFileSync(path.join(ws.dir, "outputs", "given.raw.srt"), syntheticSrt(5));
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const asrTask = (taskId: string, media = "long.wav") =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });
  const refineTask = (taskId: string) =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["refine"],
      config_snapshot: { engine: { type: "faster_whisper" } },
      input: { media: "workspace/inbox/long.wav", script: null },
      output: { raw_srt: "workspace/outputs/given.raw.srt", refined_srt: `workspace/outputs/${taskId}.refined.srt` },
    });
  /** asr under way (its engine starting counts: a signal then must hand the task back too). */
  const transcribing = (taskId: string) => {
    const before = readEvents(ws, taskId).length;
    return waitFor(`${taskId} under way`, () => readEvents(ws, taskId).slice(before).some((event) => event.type === "stage.progress"), 240_000);
  };

  test("run --task stopped by SIGINT exits 130 and hands the task back to the queue", async () => {
    dropTask(ws, asrTask("interrupted_single"));
    const runner = startCli(ws, ["run", "--task", "interrupted_single"]);
    const finished = collect(runner, 280_000);
    await transcribing("interrupted_single");
    runner.kill("SIGINT");
    const result = await finished;
    assert.equal(result.code, 130, result.stderr);
    assert.equal(readTask(ws, "interrupted_single").status, "queued");
    assert.ok(readEvents(ws, "interrupted_single").some((event) => event.type === "task.requeued" && event.payload.reason === "shutdown"));
  });

  test("a batch run stopped by SIGTERM exits 130 and hands its task back", async () => {
    const underWay = transcribing("interrupted_single");
    const runner = startCli(ws, ["run"]);
    const finished = collect(runner, 280_000);
    await underWay;
    runner.kill("SIGTERM");
    const result = await finished;
    assert.equal(result.code, 130, result.stderr);
    assert.equal(readTask(ws, "interrupted_single").status, "queued");
  });

  test("a second signal exits at once, the task left running; status shows it orphaned, and the next run recovers it", async () => {
    rmSync(path.join(ws.tasksDir, "20260206_interrupted_single.task.json"), { force: true });
    dropTask(ws, asrTask("left_running", "short.wav"));
    const runner = startCli(ws, ["run", "--task", "left_running"]);
    let stderr = "";
    runner.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const finished = collect(runner, 280_000);
    await transcribing("left_running");
    runner.kill("SIGINT");
    await waitFor("the first signal heard", () => stderr.includes("signal again to exit at once"), 30_000, 5);
    // Frozen between the two signals, so the second is handled before the graceful stop can end.
    runner.kill("SIGSTOP");
    runner.kill("SIGINT");
    runner.kill("SIGCONT");
    const result = await finished;
    assert.equal(result.code, 130, result.stderr);
    assert.equal(readTask(ws, "left_running").status, "running", "not handed back: the process exited at once");
    assert.ok(!readEvents(ws, "left_running").some((event) => event.type === "task.requeued"));

    // Orphaned once its lease is no longer fresh (spec: 10 s), at the latest.
    let status = await cli(ws, ["status"]);
    for (let i = 0; i < 60 && !status.stdout.includes("its runner is gone"); i++) {
      await sleep(500);
      status = await cli(ws, ["status"]);
    }
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /left_running .*\(its runner is gone: the next runner recovers it\)/);
    assert.match(status.stdout, /runners alive: 0/);
    const json = JSON.parse((await cli(ws, ["status", "--json"])).stdout) as { running: { task_id: string; orphaned: boolean }[] };
    assert.deepEqual(json.running.map(({ task_id, orphaned }) => ({ task_id, orphaned })), [{ task_id: "left_running", orphaned: true }]);

    const next = await cli(ws, ["run"], {}, 280_000);
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /recovered task left_running from a dead runner/);
    assert.equal(readTask(ws, "left_running").status, "done");
  });

  test("list shows an invalid task file as invalid, with its reason", async () => {
    writeFileSync(path.join(ws.tasksDir, "20260206_broken.task.json"), '{"task_id": "broken", ');
    const list = await cli(ws, ["list"]);
    assert.equal(list.code, 0, list.stderr);
    const line = list.stdout.split("\n").find((text) => text.includes("20260206_broken.task.json"));
    assert.ok(line, list.stdout);
    assert.match(line, /invalid/);
    assert.match(line, /not valid JSON/);
    rmSync(path.join(ws.tasksDir, "20260206_broken.task.json"));
  });

  test("run --task of an id two task files share is refused with exit 4, neither file touched", async () => {
    dropTask(ws, refineTask("twin"), "20260206");
    dropTask(ws, refineTask("twin"), "20260207");
    const run = await cli(ws, ["run", "--task", "twin"]);
    assert.equal(run.code, 4, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /twin/);
    for (const stamp of ["20260206", "20260207"]) assert.equal(JSON.parse(readFileSync(path.join(ws.tasksDir, `${stamp}_twin.task.json`), "utf8")).status, "queued");
    rmSync(path.join(ws.tasksDir, "20260207_twin.task.json"));
    rmSync(path.join(ws.tasksDir, "20260206_twin.task.json"));
  });

  test("a claim lock is not taken over before it is 5 s old, and is once it is", async () => {
    const file = dropTask(ws, refineTask("locked"));
    // A holder's lock as the store makes it: the lock folder with one folder named for the holder's token.
    mkdirSync(path.join(`${file}.lock`, "0123456789abcdef"), { recursive: true });
    const lockedAt = Date.now();
    const run = await cli(ws, ["run", "--task", "locked"]);
    assert.equal(run.code, 0, run.stderr);
    const startedAt = Date.parse(String(readTask(ws, "locked").started_at));
    // A lower bound: a loaded machine only makes the claim later.
    assert.ok(startedAt - lockedAt >= 5_000, `claimed ${startedAt - lockedAt} ms after a fresh lock was made`);
    assert.equal(readTask(ws, "locked").status, "done");
  });

  test("a claim lock kept fresh by its holder is never taken over: run --task is refused with exit 4", async () => {
    const file = dropTask(ws, refineTask("held"));
    const lock = `${file}.lock`;
    const holderFolder = path.join(lock, "fedcba9876543210");
    mkdirSync(holderFolder, { recursive: true });
    let holding = true;
    const holder = (async () => {
      while (holding) {
        const now = new Date();
        utimesSync(holderFolder, now, now);
        await sleep(500);
      }
    })();
    try {
      const run = await cli(ws, ["run", "--task", "held"]);
      assert.equal(run.code, 4, `${run.stdout}\n${run.stderr}`);
      assert.equal(readTask(ws, "held").status, "queued");
    } finally {
      holding = false;
      await holder;
      rmSync(lock, { recursive: true, force: true });
    }
  });

  test("a runner frozen past its lease while another ran the task exits 4 (superseded) and leaves the other's record", async () => {
    writeFileSync(path.join(ws.dir, "outputs", "frozen.raw.srt"), syntheticSrt(300));
    dropTask(
      ws,
      specExampleTask({
        task_id: "frozen",
        pipeline: ["refine"],
        config_snapshot: { engine: { type: "faster_whisper" } },
        input: { media: "workspace/inbox/long.wav", script: null },
        output: { raw_srt: "workspace/outputs/frozen.raw.srt", refined_srt: "workspace/outputs/frozen.refined.srt" },
      }),
    );
    const first = startCli(ws, ["run", "--task", "frozen"]);
    const firstDone = collect(first, 280_000);
    await waitFor("refine started", () => readEvents(ws, "frozen").some((event) => event.type === "stage.started"), 120_000, 5);
    first.kill("SIGSTOP");
    try {
      // Past the lease's 10 s (spec), another runner takes the task over and runs it to the end.
      await sleep(11_000);
      const second = await cli(ws, ["run", "--task", "frozen"], {}, 280_000);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(readTask(ws, "frozen").status, "done");
    } finally {
      first.kill("SIGCONT");
    }
    const record = readFileSync(path.join(ws.tasksDir, "20260206_frozen.task.json"), "utf8");
    const result = await firstDone;
    assert.equal(result.code, 4, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stderr, /superseded/);
    assert.equal(readFileSync(path.join(ws.tasksDir, "20260206_frozen.task.json"), "utf8"), record, "the second runner's record is left as it was");
    assert.equal(readEvents(ws, "frozen").filter((event) => event.type === "task.completed").length, 1);
  });
});
