/**
 * Languages and engine options through the real CLI and the real models (tiny.en, English-only;
 * base, multilingual): the spoken language is honoured or detected, English-only models are refused
 * what they cannot do before anything runs, translation gives English, and engine options are
 * checked by name.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { SENTENCE, cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, type TestWorkspace } from "../support/harness.js";

describe("languages and engine options", () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "english.wav", SENTENCE);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, engine: Record<string, unknown>, media = "english.wav") =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", ...engine } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });

  /** Runs a task that must fail before any stage starts; returns its stored error. */
  async function failsBeforeAnyStage(taskId: string): Promise<{ code: string; message: string }> {
    const result = await cli(ws, ["run", "--task", taskId]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(readTask(ws, taskId).status, "failed");
    assert.ok(!readEvents(ws, taskId).some((event) => event.type === "stage.started"), "no stage started");
    return readTask(ws, taskId).error as { code: string; message: string };
  }

  test("an unknown engine option fails the task before any stage runs, naming the key", async () => {
    dropTask(ws, task("misspelt_option", { model: "tiny.en", vad_filtre: true }));
    const error = await failsBeforeAnyStage("misspelt_option");
    assert.equal(error.code, "task_invalid");
    assert.match(error.message, /config_snapshot\.engine: Unrecognized key: "vad_filtre"/);
    assert.match(error.message, /vad_filter/, "the options that exist are listed");
  });
});
