/**
 * The refine stage end to end through the CLI, on espeak-ng speech and the real tiny.en model:
 * refined subtitles meet the rules, a script's words come out exactly, a wrong script fails, and a
 * raw SRT can be re-refined on its own. Also `check` and `refine` as one-off commands.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { AlignmentReport } from "../../core/app/refine/index.js";
import { parseSrt } from "../../core/app/subtitles/index.js";
import { cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, spokenSentences, srtText, wer, type TestWorkspace } from "../support/harness.js";

/** What espeak-ng says, sentence by sentence, and the script a user would give for it (its own casing and punctuation). */
const SENTENCES = [
  "Good morning, everyone. Thank you for joining the quarterly review.",
  "Revenue grew by twelve percent, and our customers renewed at record rates.",
  "Next quarter, we will focus on reliability, hiring, and the new subtitle editor.",
  "Please send your questions to the team before Friday.",
];
const SCRIPT = SENTENCES.join(" ");

const UNRELATED = "Mix the flour with two eggs and a pinch of salt, then bake the loaf for forty minutes at a high heat until golden.";

describe("refine", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;
  /** When each of SENTENCES really starts in review.wav (from the samples espeak-ng wrote). */
  let onsets: number[];

  before(() => {
    ws = makeWorkspace();
    ({ onsets } = spokenSentences(ws, "review.wav", SENTENCES));
    writeFileSync(path.join(ws.inbox, "review.txt"), `${SCRIPT}\n`);
    writeFileSync(path.join(ws.inbox, "recipe.txt"), `${UNRELATED}\n`);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, script: string | null, overrides: Record<string, unknown> = {}) =>
    specExampleTask({
      task_id: taskId,
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: true } },
      input: { media: "workspace/inbox/review.wav", script },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt`, refined_srt: `workspace/outputs/${taskId}.refined.srt` },
      ...overrides,
    });

  const refinedOf = (taskId: string) => readFileSync(path.join(ws.dir, `outputs/${taskId}.refined.srt`), "utf8");
  /** For each sentence whose first two words begin a cue: how far that cue's start is from the sentence's real onset. */
  const onsetErrors = (srt: string) => {
    const cues = parseSrt(srt);
    const key = (text: string) => text.toLowerCase().replace(/[^a-z ]/g, "").split(" ").slice(0, 2).join(" ");
    return SENTENCES.flatMap((sentence, k) => {
      const cue = cues.find((c) => key(c.lines.join(" ")) === key(sentence));
      return cue ? [Math.abs(cue.start - (onsets[k] as number))] : [];
    });
  };
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const refineSummary = (taskId: string) => {
    const completed = readEvents(ws, taskId).find((event) => event.type === "stage.completed" && event.payload.stage === "refine");
    assert.ok(completed?.type === "stage.completed");
    return completed.payload.summary as { cues: number; violations: Record<string, number>; alignment: AlignmentReport | null };
  };

  test("without a script: refined subtitles pass every rule and keep what was heard", async () => {
    dropTask(ws, task("no_script", null));
    const result = await cli(ws, ["run", "--task", "no_script"]);
    assert.equal(result.code, 0, result.stderr);
    const raw = srtText(readFileSync(path.join(ws.dir, "outputs/no_script.raw.srt"), "utf8"));
    const refined = refinedOf("no_script");
    const asrWer = wer(SCRIPT, raw);
    process.stdout.write(`# asr word error rate on the review speech: ${asrWer.toFixed(3)}\n`);
    assert.ok(wer(raw, srtText(refined)) < 0.1, "refine keeps the heard words");
    assert.doesNotMatch(refined, /\s%/, "a symbol Whisper emits as its own word stays with its number");
    const check = await cli(ws, ["check", path.join(ws.dir, "outputs/no_script.refined.srt"), "--json"]);
    assert.equal(check.code, 0, check.stdout);
    const summary = refineSummary("no_script");
    assert.ok(Object.values(summary.violations).every((count) => count === 0), JSON.stringify(summary.violations));
    assert.equal(summary.alignment, null);
    const errors = onsetErrors(refined);
    assert.ok(errors.length >= 2, `at least two sentences heard well enough to begin a cue: ${srtText(refined)}`);
    process.stdout.write(`# without a script: cue starts are ${mean(errors).toFixed(3)} s from the true sentence onsets on average (${errors.length} sentences)\n`);
    assert.ok(Math.max(...errors) < 0.5, JSON.stringify(errors));
  });

  test("with the script: the refined text is the script word for word, timed by the speech", async () => {
    dropTask(ws, task("with_script", "workspace/inbox/review.txt"));
    const result = await cli(ws, ["run", "--task", "with_script"]);
    assert.equal(result.code, 0, result.stderr);
    const refined = refinedOf("with_script");
    assert.equal(srtText(refined).replace(/\s+/g, " "), SCRIPT, "exactly the script's words, casing and punctuation");
    assert.equal(wer(SCRIPT, srtText(refined)), 0);
    const { alignment, violations } = refineSummary("with_script");
    assert.ok(alignment && alignment.match_ratio > 0.6, JSON.stringify(alignment));
    assert.ok(alignment.mean_boundary_shift_sec < 0.5, `cue boundaries follow the speech: ${alignment.mean_boundary_shift_sec}`);
    assert.ok(Object.values(violations).every((count) => count === 0), JSON.stringify(violations));
    const errors = onsetErrors(refined);
    assert.equal(errors.length, SENTENCES.length, "every sentence begins a cue");
    process.stdout.write(
      `# with the script: WER 0, match ratio ${alignment.match_ratio.toFixed(3)}, mean cue boundary shift from the heard words ${alignment.mean_boundary_shift_sec.toFixed(3)} s, cue starts ${mean(errors).toFixed(3)} s from the true sentence onsets on average\n`,
    );
    assert.ok(Math.max(...errors) < 0.5, JSON.stringify(errors));
  });

  test("a script that does not fit the media fails the task saying so, after asr", async () => {
    dropTask(ws, task("wrong_script", "workspace/inbox/recipe.txt"));
    const result = await cli(ws, ["run", "--task", "wrong_script"]);
    assert.equal(result.code, 1);
    const error = readTask(ws, "wrong_script").error as { code: string; stage: string; message: string };
    assert.equal(error.code, "script_mismatch");
    assert.equal(error.stage, "refine");
    assert.match(error.message, /script does not fit the media/);
  });

  test("a missing script, or one that is not UTF-8, fails the task before asr runs", async () => {
    writeFileSync(path.join(ws.inbox, "latin1.txt"), Buffer.from("Caf\xe9 au lait, s'il vous pla\xeet.", "latin1"));
    for (const [taskId, script, code] of [
      ["missing_script", "workspace/inbox/nope.txt", "script_missing"],
      ["latin1_script", "workspace/inbox/latin1.txt", "script_invalid"],
    ] as const) {
      dropTask(ws, task(taskId, script));
      const result = await cli(ws, ["run", "--task", taskId]);
      assert.equal(result.code, 1);
      const error = readTask(ws, taskId).error as { code: string; message: string };
      assert.equal(error.code, code);
      assert.ok(error.message.includes(script), error.message);
      assert.ok(!readEvents(ws, taskId).some((event) => event.type === "stage.started"));
    }
  });

  test("a script that is /dev/zero, a FIFO or 100 MB fails the task at once with a clear error, before asr", async () => {
    execFileSync("mkfifo", [path.join(ws.inbox, "script.fifo")]);
    const huge = path.join(ws.inbox, "huge.txt");
    writeFileSync(huge, "");
    truncateSync(huge, 100 * 1024 * 1024);
    for (const [taskId, script, message] of [
      ["zero_script", "/dev/zero", /input\.script "\/dev\/zero" is a character device, not a regular file/],
      ["fifo_script", "workspace/inbox/script.fifo", /input\.script "workspace\/inbox\/script\.fifo" is a FIFO \(named pipe\), not a regular file/],
      ["huge_script", "workspace/inbox/huge.txt", /input\.script "workspace\/inbox\/huge\.txt" is 100 MiB, over the limit of 4 MiB/],
    ] as const) {
      dropTask(ws, task(taskId, script));
      // Before bounded reads, the FIFO hung here for ever and /dev/zero grew without limit.
      const result = await cli(ws, ["run", "--task", taskId], {}, 30_000);
      assert.equal(result.code, 1, result.stderr);
      const error = readTask(ws, taskId).error as { code: string; message: string; stage: string };
      assert.equal(error.code, "script_invalid");
      assert.equal(error.stage, "refine");
      assert.match(error.message, message);
      assert.ok(!readEvents(ws, taskId).some((event) => event.type === "stage.started"));
    }
  });

  test("a refine-only pipeline re-refines the existing raw SRT, here with a script added", async () => {
    dropTask(ws, task("rerefine", "workspace/inbox/review.txt", { pipeline: ["refine"], output: { raw_srt: "workspace/outputs/no_script.raw.srt", refined_srt: "workspace/outputs/rerefine.refined.srt" } }));
    const result = await cli(ws, ["run", "--task", "rerefine"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(srtText(refinedOf("rerefine")).replace(/\s+/g, " "), SCRIPT);
  });

  test("a task sets its own rules under config_snapshot.refine; a misspelt one fails the task before any stage runs", async () => {
    const narrow = task("narrow", null, {
      pipeline: ["refine"],
      config_snapshot: { engine: { type: "faster_whisper" }, refine: { max_chars_per_line: 30, children: true } },
      output: { raw_srt: "workspace/outputs/no_script.raw.srt", refined_srt: "workspace/outputs/narrow.refined.srt" },
    });
    dropTask(ws, narrow);
    const result = await cli(ws, ["run", "--task", "narrow"]);
    assert.equal(result.code, 0, result.stderr);
    const refined = parseSrt(refinedOf("narrow"));
    assert.ok(refined.every((cue) => cue.lines.every((line) => line.length <= 30)), JSON.stringify(refined));
    const check = await cli(ws, ["check", path.join(ws.dir, "outputs/narrow.refined.srt"), "--rules", '{"max_chars_per_line": 30, "children": true}']);
    assert.equal(check.code, 0, check.stdout);

    dropTask(ws, { ...narrow, task_id: "misspelt", config_snapshot: { engine: { type: "faster_whisper" }, refine: { max_char_per_line: 30 } } });
    const failed = await cli(ws, ["run", "--task", "misspelt"]);
    assert.equal(failed.code, 1);
    const error = readTask(ws, "misspelt").error as { code: string; message: string };
    assert.equal(error.code, "task_invalid");
    assert.match(error.message, /config_snapshot\.refine: Unrecognized key: "max_char_per_line"/);
    assert.ok(!readEvents(ws, "misspelt").some((event) => event.type === "stage.started"));
  });

  test("`check` reports each broken rule per cue and exits 1; `refine` fixes the file", async () => {
    const bad = path.join(ws.root, "bad.srt");
    writeFileSync(bad, [
      "1", "00:00:01,000 --> 00:00:01,300", "This single line is far too long to be read by anyone in the time given.", "",
      "2", "00:00:01,200 --> 00:00:09,500", "Overlapping and lingering.", "",
    ].join("\n"));
    const check = await cli(ws, ["check", bad, "--json"]);
    assert.equal(check.code, 1);
    const report = JSON.parse(check.stdout) as { summary: Record<string, number>; violations: { cue: number; rule: string }[] };
    assert.ok(report.summary.max_chars_per_line! >= 1 && report.summary.overlap! >= 1 && report.summary.max_duration! >= 1, JSON.stringify(report.summary));
    const text = await cli(ws, ["check", bad]);
    assert.match(text.stdout, /cue 1: .*characters/);

    const fixed = path.join(ws.root, "fixed.srt");
    const refine = await cli(ws, ["refine", bad, "-o", fixed]);
    assert.equal(refine.code, 0, refine.stderr);
    assert.equal(wer(srtText(readFileSync(bad, "utf8")), srtText(readFileSync(fixed, "utf8"))), 0);
    const recheck = await cli(ws, ["check", fixed, "--json"]);
    const after = JSON.parse(recheck.stdout) as { summary: Record<string, number> };
    assert.equal(after.summary.overlap, 0);
    assert.equal(after.summary.max_chars_per_line, 0);

    const stricter = await cli(ws, ["check", fixed, "--rules", '{"max_chars_per_line": 12}']);
    assert.equal(stricter.code, 1);
    assert.match(stricter.stdout, /max 12\)/);
    const misspelt = await cli(ws, ["check", fixed, "--rules", '{"max_char": 12}']);
    assert.equal(misspelt.code, 2);
    assert.match(misspelt.stderr, /--rules: Unrecognized key: "max_char"/);
  });
});
