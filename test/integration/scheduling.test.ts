/**
 * Scheduling: queued tasks run oldest first by `created_at`, whatever their file names say; with
 * `--concurrency N` up to N run at once, each with its own engine worker; a task that names English
 * and no model gets the bundled tiny.en.
 */
import { availableParallelism } from "node:os";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { SophiaEvent } from "../../core/app/task/model/schema.js";
import { LONG_TEXT, SENTENCE, cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, type TestWorkspace } from "../support/harness.js";

describe("scheduling", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "short.wav", SENTENCE);
    speech(ws, "medium.wav", LONG_TEXT.split(". ").slice(0, 4).join(". "));
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, createdAt: string, media: string, engine: Record<string, unknown> = {}) =>
    specExampleTask({
      task_id: taskId,
      created_at: createdAt,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", language: "en", ...engine } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });
  const eventsOf = (type: SophiaEvent["type"]) => readEvents(ws).filter((event) => event.type === type);

  test("a batch run takes the oldest task first, by created_at, whatever the file names say", async () => {
    // File-name stamps in the opposite order to created_at.
    dropTask(ws, task("made_third", "2026-02-06T12:00:00Z", "short.wav"), "20260101");
    dropTask(ws, task("made_first", "2026-02-06T10:00:00+00:00", "short.wav"), "20260303");
    dropTask(ws, task("made_second", "2026-02-06T12:30:00+01:00", "short.wav"), "20260202");
    const result = await cli(ws, ["run"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      eventsOf("task.started").map((event) => event.task_id),
      ["made_first", "made_second", "made_third"],
    );
    const asr = readEvents(ws, "made_first").find((event) => event.type === "stage.completed");
    assert.ok(asr?.type === "stage.completed");
    assert.equal(asr.payload.summary.model, "tiny.en", "English and no model named: the bundled tiny.en");
    assert.equal(asr.payload.summary.model_lanes, 1, "by default one lane: no cut in the media (spec §4.1)");
  });

  test("--concurrency 2 runs two tasks at once, each with its own worker and its share of the cores", async () => {
    dropTask(ws, task("parallel_a", "2026-02-07T10:00:00Z", "medium.wav", { lanes: 0 }));
    dropTask(ws, task("parallel_b", "2026-02-07T10:00:01Z", "medium.wav", { lanes: 0 }));
    const result = await cli(ws, ["run", "--concurrency", "2"]);
    assert.equal(result.code, 0, result.stderr);
    for (const taskId of ["parallel_a", "parallel_b"]) assert.equal(readTask(ws, taskId).status, "done");
    const at = (taskId: string, type: SophiaEvent["type"]) => Date.parse(readEvents(ws, taskId).find((event) => event.type === type)?.ts ?? "");
    assert.ok(at("parallel_b", "task.started") < at("parallel_a", "task.completed"), "the second task started before the first finished");
    const summaries = ["parallel_a", "parallel_b"].map((taskId) => {
      const asr = readEvents(ws, taskId).find((event) => event.type === "stage.completed");
      return asr?.type === "stage.completed" ? asr.payload.summary : {};
    });
    assert.deepEqual(
      summaries.map((summary) => summary.model_cached),
      [false, false],
      "two workers, each loading the model",
    );
    const share = Math.max(1, Math.floor(availableParallelism() / 2));
    assert.deepEqual(
      summaries.map((summary) => summary.model_lanes),
      [share, share],
      "lanes: 0 makes each worker's share of the cores its lanes",
    );
  });
});
