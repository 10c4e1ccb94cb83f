/**
 * asr never loses speech quietly (spec §4.1), on a human reading: /work/shared/corpus/sonnet002.mp3
 * (or $SOPHIA_CORPUS), the real CLI and tiny.en. Whisper's first pass on this file stops before the
 * closing words ("feel'st it cold"), which the coverage check finds and transcribes again.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSrt } from "../../core/app/refine/index.js";
import type { SpeechCoverage } from "../../core/app/transcript.js";
import { cli, dropTask, makeWorkspace, readEvents, specExampleTask, type TestWorkspace } from "../support/harness.js";

const CORPUS = process.env.SOPHIA_CORPUS ?? "/work/shared/corpus";
const MAX_CUE_SEC = 7;

describe("speech coverage on a human reading", () => {
  let ws: TestWorkspace;
  before(() => {
    ws = makeWorkspace();
    copyFileSync(path.join(CORPUS, "sonnet002.mp3"), path.join(ws.inbox, "sonnet002.mp3"));
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("every stretch of speech gets words, the closing line included, and every cue lies inside the media", async () => {
    dropTask(
      ws,
      specExampleTask({
        task_id: "sonnet",
        config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: true } },
        input: { media: "workspace/inbox/sonnet002.mp3", script: null },
        output: { raw_srt: "workspace/outputs/sonnet.raw.srt", refined_srt: "workspace/outputs/sonnet.refined.srt" },
      }),
    );
    const result = await cli(ws, ["run", "--task", "sonnet"]);
    assert.equal(result.code, 0, result.stderr);

    const completed = readEvents(ws, "sonnet").find((event) => event.type === "stage.completed" && event.payload.stage === "asr");
    assert.ok(completed?.type === "stage.completed");
    const summary = completed.payload.summary as { media_duration_sec: number; coverage: SpeechCoverage | null };
    const coverage = summary.coverage;
    assert.ok(coverage, "the asr summary reports speech coverage");
    process.stdout.write(`# sonnet002 coverage: ${JSON.stringify(coverage)}\n`);
    assert.ok(coverage.speech_sec > 30, `a 53 s reading has most of its time as speech: ${coverage.speech_sec} s`);
    assert.deepEqual(coverage.uncovered, []);
    assert.equal(coverage.speech_with_words_pct, 100);

    const duration = summary.media_duration_sec;
    const raw = parseSrt(readFileSync(path.join(ws.dir, "outputs/sonnet.raw.srt"), "utf8"));
    const refined = parseSrt(readFileSync(path.join(ws.dir, "outputs/sonnet.refined.srt"), "utf8"));
    for (const [name, cues] of [
      ["raw", raw],
      ["refined", refined],
    ] as const) {
      const outside = cues.filter((cue) => cue.start < 0 || cue.end > duration + 0.001 || cue.end < cue.start);
      assert.deepEqual(outside, [], `${name} cues outside the media (0–${duration} s)`);
    }
    const long = refined.filter((cue) => cue.end - cue.start > MAX_CUE_SEC + 0.001);
    assert.deepEqual(long, [], `refined cues over ${MAX_CUE_SEC} s`);

    const closing = refined.slice(-2).flatMap((cue) => cue.lines).join(" ").toLowerCase();
    assert.match(closing, /\bit cold\b/, `the closing words are subtitled: ${closing}`);
    const lastCue = refined.at(-1);
    assert.ok(lastCue && lastCue.start > duration - 5, `the closing words are timed near the end of the reading, not before: ${JSON.stringify(lastCue)}`);
  });
});
