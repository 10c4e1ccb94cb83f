/**
 * asr never loses speech quietly (spec §4.1), on a human reading: ../shared/corpus/sonnet002.mp3
 * (or $SOPHIA_CORPUS), the real CLI and tiny.en. Decoding with the previous text as prompt
 * (faster-whisper's default), Whisper stopped before the closing words ("feel'st it cold") on an
 * AMD CPU, and heard them on an Intel one: which speech a model loses depends on the CPU's
 * arithmetic. So the test runs the worker wrapped (test/support/unhearing_worker.py), which takes the
 * closing line away from the first pass, and the coverage check must find that speech and transcribe it again.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSrt } from "../../core/app/subtitles/index.js";
import type { SpeechCoverage } from "../../core/app/transcript.js";
import { resolveSettings } from "../../core/app/config.js";
import { PROJECT, cli, dropTask, makeWorkspace, readEvents, specExampleTask, type TestWorkspace } from "../support/harness.js";
import { CORPUS } from "../support/corpus.js";
import { corpusOnsets } from "../support/line_onsets.js";
import { runPythonTests } from "../support/python_tests.js";

const MAX_CUE_SEC = 7;

/** The runner's environment for a worker whose first pass loses the words said in `stretch` ("start-end" s). */
const unhearing = (stretch: string): Record<string, string> => ({
  SOPHIA_PYTHON: path.join(PROJECT, "test", "support", "unhearing_python"),
  UNHEAR_PYTHON: resolveSettings().python,
  UNHEAR: stretch,
});

test("a stretch of speech transcribed again keeps its first word and adds no word twice (the worker with tiny.en, Python unittest)", { timeout: 600_000 }, () => {
  runPythonTests("test/integration/python");
});

describe("speech coverage on a human reading", { timeout: 600_000 }, () => {
  let ws: TestWorkspace;
  before(() => {
    ws = makeWorkspace();
    copyFileSync(path.join(CORPUS, "sonnet002.mp3"), path.join(ws.inbox, "sonnet002.mp3"));
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const run = async (taskId: string, engine: Record<string, unknown>, pipeline: string[], env: Record<string, string> = {}) => {
    dropTask(
      ws,
      specExampleTask({
        task_id: taskId,
        config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en", ...engine }, refine: { enabled: true } },
        input: { media: "workspace/inbox/sonnet002.mp3", script: null },
        pipeline,
        output: { raw_srt: `workspace/outputs/${taskId}.raw.srt`, refined_srt: `workspace/outputs/${taskId}.refined.srt` },
      }),
    );
    const result = await cli(ws, ["run", "--task", taskId], env);
    assert.equal(result.code, 0, result.stderr);
    const completed = readEvents(ws, taskId).find((event) => event.type === "stage.completed" && event.payload.stage === "asr");
    assert.ok(completed?.type === "stage.completed");
    const summary = completed.payload.summary as { media_duration_sec: number; coverage: SpeechCoverage | null };
    assert.ok(summary.coverage, "the asr summary reports speech coverage");
    process.stdout.write(`# ${taskId} coverage: ${JSON.stringify(summary.coverage)}\n`);
    assert.ok(summary.coverage.speech_sec > 30, `a 53 s reading has most of its time as speech: ${summary.coverage.speech_sec} s`);
    assert.deepEqual(summary.coverage.uncovered, []);
    assert.equal(summary.coverage.speech_with_words_pct, 100);
    return { coverage: summary.coverage, duration: summary.media_duration_sec, raw: parseSrt(readFileSync(path.join(ws.dir, `outputs/${taskId}.raw.srt`), "utf8")) };
  };

  test("speech the first pass lost is transcribed again on its own, and its words are merged in time order", async () => {
    // One lane, so the seam's seconds are the media's; the closing line is said from 49.26 s (test/fixtures/corpus_onsets).
    const { coverage, raw, duration } = await run("prompted", { condition_on_previous_text: true }, ["asr"], { SOPHIA_ASR_LANES: "1", ...unhearing("49-60") });
    const retried = coverage.retried.find((span) => span.end > duration - 3);
    assert.ok(retried && retried.words > 0, `the closing stretch was retried and found words: ${JSON.stringify(coverage.retried)}`);
    const last = raw.at(-1);
    assert.ok(last && /\bit cold\b/i.test(last.lines.join(" ")), `the raw SRT ends with the closing words: ${JSON.stringify(last)}`);
    assert.ok(raw.every((cue, i) => i === 0 || cue.start >= (raw[i - 1]?.start ?? 0)), "raw cues in time order");
  });

  test("with the default decoding, every stretch of speech gets words, the closing line included, and every cue lies inside the media", async () => {
    const { raw, duration } = await run("sonnet", {}, ["asr", "refine"]);
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
    // The last cue begins one of the last two lines (refine may join them), where that line is said.
    const lastCue = refined.at(-1);
    const onsets = corpusOnsets("sonnet002").lines.slice(-2).flatMap((line) => (line.onset === null ? [] : [line.onset]));
    assert.ok(lastCue && onsets.some((onset) => Math.abs(lastCue.start - onset) <= 0.5), `the closing words are timed where they are said (lines from ${onsets.join(" s and ")} s): ${JSON.stringify(lastCue)}`);
  });
});
