/**
 * Watch mode: a long-running runner picks up task files as they appear and, on SIGTERM, hands the
 * task it was running back to the queue and exits promptly.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { LONG_TEXT, SENTENCE, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("watch", () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "short.wav", SENTENCE);
    speech(ws, "long.wav", LONG_TEXT);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, media: string, createdAt: string) =>
    specExampleTask({
      task_id: taskId,
      created_at: createdAt,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });

  test("picks up new task files as they appear, reports a broken one once, and hands back on SIGTERM", async () => {
    // A long rescan interval: pickup must come from the file notification.
    const watcher = startCli(ws, ["run", "--watch", "--rescan-interval", "600"]);
    const exit = collect(watcher);
    let stderr = "";
    watcher.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor("the watcher to start", () => stderr.includes("watching"), 20_000);

    dropTask(ws, task("first", "short.wav", "2026-02-06T10:30:00Z"));
    await waitFor("the first task done", () => readTask(ws, "first").status === "done", 60_000);

    writeFileSync(path.join(ws.tasksDir, "20260206_broken.task.json"), "{ not json");
    dropTask(ws, task("long", "long.wav", "2026-02-06T10:31:00Z"));
    await waitFor("the long task under way", () => readEvents(ws, "long").some((event) => event.type === "stage.progress" && event.payload.progress > 0), 60_000);

    const stopping = Date.now();
    watcher.kill("SIGTERM");
    const result = await exit;
    const stopSeconds = (Date.now() - stopping) / 1000;
    process.stdout.write(`# watch runner stopped ${stopSeconds.toFixed(2)} s after SIGTERM\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(stopSeconds < 5, `took ${stopSeconds} s to stop`);

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
