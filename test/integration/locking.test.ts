/**
 * Locking: several runners on one workspace (watchers, a batch run, and `run --task` beside them)
 * start each task exactly once.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { SENTENCE, cli, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("locking", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "short.wav", SENTENCE);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("two watchers, a batch run and run --task on one queue start each task exactly once", async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `shared_${i + 1}`);
    ids.forEach((taskId, i) =>
      dropTask(
        ws,
        specExampleTask({
          task_id: taskId,
          created_at: `2026-02-06T10:30:0${i}Z`,
          pipeline: ["asr"],
          config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
          input: { media: "workspace/inbox/short.wav", script: null },
          output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
        }),
      ),
    );
    const watchers = [startCli(ws, ["run", "--watch", "--rescan-interval", "1"]), startCli(ws, ["run", "--watch", "--rescan-interval", "1"])];
    const exits = watchers.map((watcher) => collect(watcher));
    const batch = cli(ws, ["run", "--json"]);
    const single = cli(ws, ["run", "--task", "shared_4"]);
    const singleResult = await single;
    assert.ok([0, 4].includes(singleResult.code ?? -1), `run --task either ran it or was refused: ${singleResult.stderr}`);
    const batchResult = await batch;
    assert.equal(batchResult.code, 0, batchResult.stderr);

    await waitFor("every task done", () => ids.every((taskId) => readTask(ws, taskId).status === "done"), 120_000, 200);
    watchers.forEach((watcher) => watcher.kill("SIGTERM"));
    const watcherResults = await Promise.all(exits);
    for (const result of watcherResults) assert.equal(result.code, 0, result.stderr);

    // Who ran what, from each runner's own report: every task exactly once across all of them.
    const doneBy = [
      ...watcherResults.map((result) => [...result.stderr.matchAll(/task (shared_\d) done/g)].map((match) => match[1])),
      (JSON.parse(batchResult.stdout) as { outcome: string; taskId: string }[]).filter((result) => result.outcome === "done").map((outcome) => outcome.taskId),
      singleResult.code === 0 ? ["shared_4"] : [],
    ];
    assert.deepEqual(doneBy.flat().sort(), ids);
    process.stdout.write(`# tasks completed per runner: ${doneBy.map((list) => list.length).join(", ")}\n`);

    for (const taskId of ids) {
      const started = readEvents(ws, taskId).filter((event) => event.type === "task.started");
      assert.equal(started.length, 1, `${taskId} started ${started.length} times`);
      assert.equal(readTask(ws, taskId).attempts, 1);
    }
  });
});
