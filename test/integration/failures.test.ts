/**
 * Bad input: each ends with a clear error that names the thing at fault, and nothing is damaged
 * (the input media is byte-identical, no file appears outside the workspace, a corrupt task file
 * is left exactly as it was).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { SENTENCE, cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, type TestWorkspace } from "../support/harness.js";

describe("failures", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;
  let media: Buffer;

  before(() => {
    ws = makeWorkspace();
    media = readFileSync(speech(ws, "talk.wav", SENTENCE));
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, overrides: Record<string, unknown> = {}) =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: "workspace/inbox/talk.wav", script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
      ...overrides,
    });

  async function runFailing(taskId: string): Promise<{ error: Record<string, unknown>; stderr: string; seconds: number }> {
    const started = Date.now();
    const result = await cli(ws, ["run", "--task", taskId]);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
    const stored = readTask(ws, taskId);
    assert.equal(stored.status, "failed");
    assert.equal(stored.runner, null);
    const events = readEvents(ws, taskId);
    const failed = events.filter((event) => event.type === "task.failed");
    assert.equal(failed.length, 1, "exactly one task.failed event");
    const error = stored.error as Record<string, unknown>;
    assert.equal(failed[0]?.type === "task.failed" && failed[0].payload.error, error.message);
    assert.match(String(error.stack), /Error/, "the full stack is kept");
    assert.deepEqual(readFileSync(path.join(ws.inbox, "talk.wav")), media, "the input media is untouched");
    return { error, stderr: result.stderr, seconds };
  }

  test("a missing media file fails the task with an error naming the file", async () => {
    dropTask(ws, task("missing_media", { input: { media: "workspace/inbox/nowhere.mp3", script: null } }));
    const { error } = await runFailing("missing_media");
    assert.equal(error.code, "media_missing");
    assert.equal(error.stage, "asr");
    assert.match(String(error.message), /workspace\/inbox\/nowhere\.mp3/);
  });

  test("an unknown engine fails the task and names the engine and the known ones", async () => {
    dropTask(ws, task("unknown_engine", { config_snapshot: { engine: { type: "whisperx", model: "tiny.en" } } }));
    const { error } = await runFailing("unknown_engine");
    assert.equal(error.code, "engine_unknown");
    assert.match(String(error.message), /"whisperx".*known: faster_whisper/);
  });

  test("a model that is not available offline fails fast, naming the model and how to provide it", async () => {
    dropTask(ws, task("no_model", { config_snapshot: { engine: { type: "faster_whisper", model: "medium" } } }));
    const { error, seconds } = await runFailing("no_model");
    assert.equal(error.code, "model_unavailable");
    assert.match(String(error.message), /"medium"/);
    assert.match(String(error.message), /models\/medium|model directory/);
    // Against a hang waiting for a download, not a speed: the refusal takes a second or two, 30 s is over 10× that.
    assert.ok(seconds < 30, `failed after ${seconds} s: no hang waiting for a download`);
  });

  test("a file that is not audio fails with the decoder's complaint, not a crash", async () => {
    writeFileSync(path.join(ws.inbox, "notes.mp3"), "these are not audio bytes\n".repeat(50));
    dropTask(ws, task("not_audio", { input: { media: "workspace/inbox/notes.mp3", script: null } }));
    const { error } = await runFailing("not_audio");
    assert.equal(error.code, "media_unreadable");
    assert.match(String(error.message), /notes\.mp3/);
  });

  test("an output path outside the workspace is refused before any work, and nothing is written there", async () => {
    const outside = path.join(ws.root, "escaped.raw.srt");
    dropTask(ws, task("escape", { output: { raw_srt: "workspace/../escaped.raw.srt" } }));
    const { error } = await runFailing("escape");
    assert.equal(error.code, "output_outside_workspace");
    assert.match(String(error.message), /output\.raw_srt .*outside the workspace/);
    assert.ok(!existsSync(outside));
    assert.ok(!readEvents(ws, "escape").some((event) => event.type === "stage.started"), "no stage ran");
  });

  test("an output path equal to the input media is refused: inputs are never overwritten", async () => {
    dropTask(ws, task("clobber", { output: { raw_srt: "workspace/inbox/talk.wav" } }));
    const { error } = await runFailing("clobber");
    assert.equal(error.code, "output_clobbers_input");
  });

  test("an output aimed at the event log or at a task file is refused, and neither is touched", async () => {
    const eventsFile = readdirSync(path.join(ws.dir, "events")).map((name) => path.join(ws.dir, "events", name))[0] as string;
    const other = dropTask(ws, task("bystander"));
    const otherBytes = readFileSync(other);
    dropTask(ws, task("into_events", { output: { raw_srt: path.relative(ws.root, eventsFile) } }));
    const intoEvents = await runFailing("into_events");
    assert.equal(intoEvents.error.code, "output_reserved");
    assert.match(String(intoEvents.error.message), /output\.raw_srt .*_events\.jsonl" is inside workspace\/events\/, which holds the event stream/);
    const ownFile = dropTask(ws, task("into_tasks", { output: { raw_srt: "workspace/tasks/20260206_bystander.task.json" } }));
    const intoTasks = await runFailing("into_tasks");
    assert.equal(intoTasks.error.code, "output_reserved");
    assert.deepEqual(readFileSync(other), otherBytes, "the other task's file is untouched");
    assert.equal(readTask(ws, "into_tasks").status, "failed", `${ownFile} still holds its own task`);
    rmSync(other);
  });

  test("an output that reaches an input through a linked folder is refused, and the input keeps its bytes", async () => {
    symlinkSync("inbox", path.join(ws.dir, "alias"));
    dropTask(ws, task("via_alias", { output: { raw_srt: "workspace/alias/talk.wav" } }));
    const { error } = await runFailing("via_alias");
    assert.equal(error.code, "output_clobbers_input");
    assert.match(String(error.message), /output\.raw_srt "workspace\/alias\/talk\.wav" is the same file as input\.media "workspace\/inbox\/talk\.wav"/);
  });

  test("a pipeline stage this runner does not have fails the task before any stage runs", async () => {
    dropTask(ws, task("unknown_stage", { pipeline: ["asr", "translate"] }));
    const { error } = await runFailing("unknown_stage");
    assert.equal(error.code, "stage_unknown");
    assert.match(String(error.message), /"translate" is not available/);
    assert.ok(!existsSync(path.join(ws.dir, "outputs/unknown_stage.raw.srt")), "asr did not run first");
  });

  test("a pipeline that runs refine before asr, or a stage twice, fails before any stage runs", async () => {
    dropTask(ws, task("backwards", { pipeline: ["refine", "asr"] }));
    const backwards = await runFailing("backwards");
    assert.equal(backwards.error.code, "task_invalid");
    assert.match(String(backwards.error.message), /pipeline lists "refine" before "asr".*put "asr" first/);
    dropTask(ws, task("twice", { pipeline: ["asr", "asr"] }));
    const twice = await runFailing("twice");
    assert.match(String(twice.error.message), /pipeline lists "asr" twice/);
    for (const taskId of ["backwards", "twice"]) assert.ok(!readEvents(ws, taskId).some((event) => event.type === "stage.started"), `${taskId}: no stage ran`);
  });

  test("a corrupt task file is reported with its name and the JSON error, and left exactly as it was", async () => {
    const file = path.join(ws.tasksDir, "20260206_corrupt.task.json");
    const bytes = '{ "task_id": "corrupt", "status": "queued", ';
    writeFileSync(file, bytes);
    const one = await cli(ws, ["run", "--task", "corrupt"]);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /20260206_corrupt\.task\.json is not valid JSON/);
    assert.equal(readFileSync(file, "utf8"), bytes);
    assert.ok(!existsSync(`${file}.lock`) && !existsSync(`${file}.lease`), "no lock left behind");

    // A batch run skips it, says so once, and still runs the valid task beside it.
    dropTask(ws, task("beside_corrupt"));
    const all = await cli(ws, ["run"]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /skipping .*20260206_corrupt\.task\.json: .*not valid JSON/);
    assert.equal(readTask(ws, "beside_corrupt").status, "done");
    assert.equal(readFileSync(file, "utf8"), bytes);
    const rejected = readEvents(ws, "corrupt").filter((event) => event.type === "task.rejected");
    assert.equal(rejected.length, 1);
  });

  test("a 50 MB task file is refused by its size, with the limit named, and left as it was", async () => {
    const file = dropTask(ws, task("huge_task", { app_notes: "x".repeat(50 * 1024 * 1024) }));
    const size = statSync(file).size;
    const result = await cli(ws, ["run", "--task", "huge_task"]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /20260206_huge_task\.task\.json is 50 MiB, over the limit of 1 MiB/);
    assert.equal(statSync(file).size, size);
    rmSync(file);
  });

  test("a task file that breaks the schema names the field at fault", async () => {
    const file = dropTask(ws, task("bad_status", { status: "paused" }));
    const before = readFileSync(file, "utf8");
    const result = await cli(ws, ["run", "--task", "bad_status"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /status: Invalid option/);
    assert.equal(readFileSync(file, "utf8"), before);
  });
});
