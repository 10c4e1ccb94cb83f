/**
 * What a task writes, through the CLI on espeak-ng speech and tiny.en: every subtitle format asked
 * for, each with its event, and outputs that never collide (default names per task, explicit ones
 * owned by the task that wrote them).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAss } from "../../core/app/subtitles/ass.js";
import { parseJson } from "../../core/app/subtitles/json.js";
import { parseVtt } from "../../core/app/subtitles/vtt.js";
import { parseSrt } from "../../core/app/subtitles/index.js";
import { SENTENCE, cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, type TestWorkspace } from "../support/harness.js";

describe("outputs", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "talk.wav", SENTENCE);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, output: Record<string, unknown>, overrides: Record<string, unknown> = {}) =>
    specExampleTask({
      task_id: taskId,
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: true } },
      input: { media: "workspace/inbox/talk.wav", script: null },
      output,
      ...overrides,
    });
  const read = (relative: string) => readFileSync(path.join(ws.root, relative), "utf8");

  test("formats [srt, vtt, ass, json] are all written beside the refined SRT, each with its artifact.written event", async () => {
    dropTask(ws, task("all_formats", { refined_srt: "workspace/outputs/talk.refined.srt", formats: ["srt", "vtt", "ass", "json"], ass: { karaoke: true } }));
    const result = await cli(ws, ["run", "--task", "all_formats"]);
    assert.equal(result.code, 0, result.stderr);
    const written = readEvents(ws, "all_formats").flatMap((event) => (event.type === "artifact.written" ? [event.payload] : []));
    assert.deepEqual(written, [
      { path: "workspace/outputs/subtitles/raw/talk.all_formats.raw.srt", kind: "raw_srt" },
      { path: "workspace/outputs/talk.refined.srt", kind: "refined_srt" },
      { path: "workspace/outputs/talk.refined.vtt", kind: "refined_vtt" },
      { path: "workspace/outputs/talk.refined.ass", kind: "refined_ass" },
      { path: "workspace/outputs/talk.refined.json", kind: "refined_json" },
    ]);
    const srt = parseSrt(read("workspace/outputs/talk.refined.srt"));
    assert.ok(srt.length >= 1);
    assert.deepEqual(parseVtt(read("workspace/outputs/talk.refined.vtt")), srt, "the VTT holds the SRT's cues");
    const json = parseJson(read("workspace/outputs/talk.refined.json"));
    assert.deepEqual(json.map(({ start, end, lines }) => ({ start, end, lines })), srt, "the JSON holds the SRT's cues");
    assert.ok(json.every((cue) => cue.words && cue.words.map((word) => word.text).join(" ") === cue.lines.join(" ")), "each JSON cue has its words");
    const ass = parseAss(read("workspace/outputs/talk.refined.ass"));
    assert.deepEqual(ass.map((cue) => cue.lines), srt.map((cue) => cue.lines));
    assert.ok(ass.every((cue, k) => Math.abs(cue.start - (srt[k] as { start: number }).start) <= 0.005), "ASS times to the centisecond");
    assert.ok(ass.every((cue) => cue.words && cue.words.length > 0), "karaoke: every cue's words are timed with \\k tags");
  });

  test("two tasks on the same media with default outputs both keep their files", async () => {
    const media = path.join(ws.inbox, "talk.wav");
    const first = (await cli(ws, ["submit", media, "--model", "tiny.en"])).stdout.trim();
    const second = (await cli(ws, ["submit", media, "--model", "tiny.en", "--format", "srt,txt", "--format", "tsv"])).stdout.trim();
    const result = await cli(ws, ["run"]);
    assert.equal(result.code, 0, result.stderr);
    for (const id of [first, second]) {
      assert.equal(readTask(ws, id).status, "done");
      assert.ok(existsSync(path.join(ws.dir, `outputs/subtitles/raw/talk.${id}.raw.srt`)), `${id}'s raw SRT`);
      assert.ok(existsSync(path.join(ws.dir, `outputs/subtitles/refined/talk.${id}.refined.srt`)), `${id}'s refined SRT`);
    }
    assert.ok(existsSync(path.join(ws.dir, `outputs/subtitles/refined/talk.${second}.refined.txt`)));
    assert.match(readFileSync(path.join(ws.dir, `outputs/subtitles/refined/talk.${second}.refined.tsv`), "utf8"), /^start\tend\ttext\n\d+\t\d+\t/);
  });

  test("an output a done task owns is refused before any stage runs, naming that task, unless the task says overwrite", async () => {
    const owned = "workspace/outputs/talk.refined.srt";
    const before = statSync(path.join(ws.root, owned)).mtimeMs;
    const intruder = (taskId: string, extra: Record<string, unknown> = {}) =>
      task(taskId, { raw_srt: "workspace/outputs/subtitles/raw/talk.all_formats.raw.srt", refined_srt: owned, ...extra }, { pipeline: ["refine"] });
    dropTask(ws, intruder("intruder"));
    const refused = await cli(ws, ["run", "--task", "intruder"]);
    assert.equal(refused.code, 1);
    const error = readTask(ws, "intruder").error as { code: string; message: string; stage: string | null };
    assert.equal(error.code, "output_taken");
    assert.equal(error.stage, null);
    assert.match(error.message, /output\.refined_srt workspace\/outputs\/talk\.refined\.srt belongs to task all_formats \(done\)/);
    assert.ok(!readEvents(ws, "intruder").some((event) => event.type === "stage.started"));
    assert.equal(statSync(path.join(ws.root, owned)).mtimeMs, before, "the owner's file is untouched");

    dropTask(ws, intruder("overwriter", { overwrite: true }));
    const replaced = await cli(ws, ["run", "--task", "overwriter"]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.ok(statSync(path.join(ws.root, owned)).mtimeMs > before);
  });

  test("refine -o picks the format from the extension; one it cannot write is refused before anything is written", async () => {
    const raw = path.join(ws.root, "workspace/outputs/subtitles/raw/talk.all_formats.raw.srt");
    const vtt = path.join(ws.root, "one-off.vtt");
    const ok = await cli(ws, ["refine", raw, "-o", vtt]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(readFileSync(vtt, "utf8"), /^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> /);
    const refused = await cli(ws, ["refine", raw, "-o", path.join(ws.root, "one-off.sub")]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--output .*one-off\.sub: "\.sub" is not a subtitle format Sophia writes; use one of \.srt, \.vtt, \.ass, \.txt, \.json, \.tsv/);
    assert.ok(!existsSync(path.join(ws.root, "one-off.sub")));
    const check = await cli(ws, ["check", vtt]);
    assert.equal(check.code, 0, check.stdout);
  });
});
