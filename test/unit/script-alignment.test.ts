/**
 * Script alignment when the script is not a clean copy of the speech (spec §5.5), on hand-made timed
 * words: speech the script lacks, script passages never spoken, passages heard twice or in another
 * order; and where the words nobody heard are timed: from the engine's alignment inside the stretch
 * between their neighbours, else interpolated there, never past the media.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { alignWindows, gapTimesOf } from "../../core/app/refine/align_windows.js";
import { planScript, timeScript, type ScriptGap } from "../../core/app/refine/alignment.js";
import { alignScript } from "../support/script_alignment.js";
import { cleanTranscript } from "../../core/app/refine/clean.js";
import { finishRefine, planRefine, refineSegments, resolveRules } from "../../core/app/refine/index.js";
import type { TimedWord } from "../../core/app/transcript.js";
import { cueText, spoken } from "../support/timed_words.js";

const RULES = resolveRules();
const A = "The committee met on Tuesday to discuss the harbour budget.";
const B = "Several members asked why the dredging contract had doubled in price.";
const C = "The chair promised a full report before the summer recess began.";
const D = "Nobody expected the vote to pass so quickly after that.";

const plain = (text: string) => text.toLowerCase().replace(/[^a-z ]/g, "");
/** What the engine hears when `sentences` are said in this order, one after the other. */
const heardSaying = (...sentences: string[]) => spoken(sentences.map(plain).join(". "));
const texts = (words: readonly TimedWord[]) => words.map((word) => word.text).join(" ");
const assertInOrder = (words: readonly TimedWord[]) =>
  words.forEach((word, k) => {
    assert.ok(word.end >= word.start, `${word.text} ends after it starts`);
    if (k > 0) assert.ok(word.start >= (words[k - 1] as TimedWord).start, `${word.text} is not before the word before it`);
  });

describe("scripts that are not a clean copy of the speech", { timeout: 60_000 }, () => {
  test("speech the script does not have is subtitled as heard, and counted", () => {
    const heard = heardSaying(A, B, C, D);
    const { words, report } = alignScript(heard, `${B} ${C}`, 0.5);
    assert.equal(texts(words), `${texts(heard.slice(0, 10))} ${B} ${C} ${texts(heard.slice(-10))}`);
    assert.equal(report.speech_not_in_script_words, 20);
    assert.equal(report.speech_not_in_script.length, 2);
    const first = report.speech_not_in_script[0];
    assert.ok(first && first.start === heard[0]?.start && first.end === heard[9]?.end, JSON.stringify(first));
    assert.ok(Math.abs(report.speech_not_in_script_sec - ((heard[9] as TimedWord).end - (heard[0] as TimedWord).start) - ((heard.at(-1) as TimedWord).end - (heard[32] as TimedWord).start)) < 0.01);
    assert.equal(report.script_words_not_spoken, 0);
    assertInOrder(words);
  });

  test("a script passage never spoken (cut in the edit) is dropped and counted", () => {
    const heard = heardSaying(A, B, D);
    const { words, report } = alignScript(heard, `${A} ${B} ${C} ${D}`, 0.5);
    assert.equal(texts(words), `${A} ${B} ${D}`);
    assert.equal(report.script_words_not_spoken, 11);
    assert.deepEqual(report.script_not_spoken, [{ text: "The chair promised a full report before the …", words: 11 }]);
    assert.equal(report.speech_not_in_script_words, 0);
  });

  test("a script mostly never spoken fails the task: the share is min_script_match", () => {
    const heard = heardSaying(A);
    assert.throws(() => alignScript(heard, `${A} ${B} ${C} ${D}`, 0.5), (error) => isSophiaError(error, "script_mismatch") && /only 2\d% of its words were heard/.test(error.message));
  });

  test("a passage in the script twice and said twice: each pass to its own speech", () => {
    const heard = heardSaying(A, B, A, C);
    const { words, report } = alignScript(heard, `${A} ${B} ${A} ${C}`, 0.5);
    assert.equal(texts(words), `${A} ${B} ${A} ${C}`);
    assert.equal((words[21] as TimedWord).start, (heard[21] as TimedWord).start, "the second pass keeps the second pass's times");
    assert.equal(report.repeated_passages, 0);
    assertInOrder(words);
  });

  test("a text said four times and written once: every pass takes the script's words, none lasts longer than its speech", () => {
    const heard = heardSaying(A, B, A, B, A, B, A, B);
    const script = `${A} ${B}`;
    const { words, report } = alignScript(heard, script, 0.5);
    assert.equal(texts(words), [script, script, script, script].join(" "));
    assert.equal(report.repeated_passages, 3);
    assert.equal(report.speech_not_in_script_words, 0);
    words.forEach((word, k) => assert.deepEqual([word.start, word.end], [heard[k]?.start, heard[k]?.end], word.text));
    const { cues } = refineSegments([{ words: heard }], RULES, { script });
    assert.ok(cues.every((cue) => cue.end - cue.start <= 7), JSON.stringify(cues));
    assert.equal(cueText(cues), words.map((word) => word.text).join(" "));
  });

  test("sections said in another order than written are subtitled where they are said, and counted", () => {
    const heard = heardSaying(A, C, B, D);
    const { words, report } = alignScript(heard, `${A} ${B} ${C} ${D}`, 0.5);
    assert.equal(texts(words), `${A} ${C} ${B} ${D}`);
    assert.equal(report.reordered_passages, 1);
    assert.equal(report.script_words_not_spoken, 0);
    assertInOrder(words);
  });
});

describe("timing script words nobody heard", { timeout: 60_000 }, () => {
  const script = `${A} ${B}`;
  // The engine stopped after "harbour": the rest of the script was said in the 4.5 s after it.
  const heard = heardSaying(A).slice(0, 9);
  const durationSec = (heard.at(-1) as TimedWord).end + 4.5;

  test("missed words at the end of the media are a gap between the last heard word and the end of the media", () => {
    const plan = planScript(heard, script, { minMatch: 0.3, durationSec, language: null });
    assert.equal(plan.gaps.length, 1);
    const gap = plan.gaps[0] as (typeof plan.gaps)[number];
    assert.deepEqual([gap.first, gap.start, gap.end], [9, (heard[8] as TimedWord).end, durationSec]);
    const interpolated = timeScript(plan, [null]).words;
    assert.ok(interpolated.every((word) => word.end <= durationSec), JSON.stringify(interpolated.slice(-3)));
    assertInOrder(interpolated);
  });

  test("the engine's times for a gap are used, kept inside the gap and in order", () => {
    const plan = planScript(heard, script, { minMatch: 0.3, durationSec, language: null });
    const gap = plan.gaps[0] as (typeof plan.gaps)[number];
    const count = gap.last - gap.first + 1;
    const times = Array.from({ length: count }, (_, k) => ({ start: gap.start + 0.3 * k, end: gap.start + 0.3 * k + 0.25 }));
    times[count - 1] = { start: durationSec + 3, end: durationSec + 4 }; // past the media: clamped
    const { words, report } = timeScript(plan, [times]);
    assert.equal(report.aligned_words, count);
    assert.equal(report.interpolated_words, 0);
    assert.equal((words[gap.first + 1] as TimedWord).start, gap.start + 0.3);
    assert.ok(words.every((word) => word.end <= durationSec));
    assertInOrder(words);
  });

  test("an interpolated word in a long silence lasts no longer than twice its length at the speaker's pace", () => {
    const said = heardSaying(A);
    const withPause = said.map((word, k) => (k >= 7 ? { ...word, start: word.start + 20, end: word.end + 20 } : word)).filter((_, k) => k !== 6);
    const { words } = alignScript(withPause, A, 0.5);
    const missed = words[6] as TimedWord;
    assert.equal(missed.text, "discuss");
    assert.ok(missed.end - missed.start < 1.2, JSON.stringify(missed));
  });

  test("refine in two halves: the plan lists the gaps, the finish uses the engine's times for them", () => {
    const rules = resolveRules({ min_script_match: 0.3 });
    const plan = planRefine([{ words: heard }], rules, { script, durationSec });
    const gaps = plan.script?.gaps ?? [];
    assert.equal(gaps.length, 1);
    const gap = gaps[0] as (typeof gaps)[number];
    const times = Array.from({ length: gap.last - gap.first + 1 }, (_, k) => ({ start: gap.start + 0.35 * k, end: gap.start + 0.35 * k + 0.3 }));
    const result = finishRefine(plan, [times], rules, { script });
    assert.equal(cueText(result.cues), script);
    assert.equal(result.alignment?.aligned_words, times.length);
    assert.ok(result.cues.every((cue) => cue.end <= durationSec && cue.end - cue.start <= 7), JSON.stringify(result.cues));
  });
});

describe("heard times", { timeout: 60_000 }, () => {
  test("a segment's first word stretched back into the silence before it starts where its length says it does", () => {
    const said = heardSaying(A, B);
    // Whisper opened the second segment 0.9 s early, in the pause before "several".
    const second = said.slice(10).map((word, k) => (k === 0 ? { ...word, start: word.start - 0.9 } : word));
    const { words } = cleanTranscript([{ words: said.slice(0, 10) }, { words: second }], resolveRules());
    const several = words[10] as TimedWord;
    assert.ok(Math.abs(several.start - (said[10] as TimedWord).start) < 0.3, JSON.stringify(several));
    assert.equal(several.end, (said[10] as TimedWord).end);
    assert.equal((words[0] as TimedWord).start, (said[0] as TimedWord).start, "a first word of ordinary length keeps its time");
  });

  test("words whose starts asr already put at the speech onsets (onsetsFromAudio) keep them: the pace guess is for a raw SRT's words", () => {
    const said = heardSaying(A, B);
    const second = said.slice(10).map((word, k) => (k === 0 ? { ...word, start: word.start - 0.9 } : word));
    const { words } = cleanTranscript([{ words: said.slice(0, 10) }, { words: second }], resolveRules(), true);
    assert.equal((words[10] as TimedWord).start, (second[0] as TimedWord).start);
  });
});

describe("scripts written without spaces", { timeout: 60_000 }, () => {
  // Whisper and ICU's dictionary cut Chinese into different words: only the characters agree.
  const heardWords = ["我们", "今天", "讨论", "人", "工智能", "的", "未来", "发展"];
  const heard: TimedWord[] = heardWords.map((text, k) => ({ text, start: k * 0.6, end: k * 0.6 + 0.5 }));
  const script = "我们今天讨论人工智能的未来发展。";

  test("a Chinese script is matched character by character, whatever the word cuts", () => {
    const { words, report } = alignScript(heard, script, 0.5, 5, "zh");
    assert.equal(report.match_ratio, 1);
    assert.equal(report.interpolated_words, 0);
    assert.equal(words.map((word) => word.text).join(""), script, "every character of the script, in order");
    assert.ok(words.length > 1, "the script is cut into words, not kept as one");
    assert.equal(words[0]?.start, 0);
    assertInOrder(words);
  });

  test("the refined cues carry the script's text and no spaces between Chinese words", () => {
    const rules = resolveRules({}, "refine", "zh");
    const result = refineSegments([{ words: heard }], rules, { script, durationSec: 5 });
    assert.equal(result.cues.map((cue) => cue.lines.join("")).join(""), script);
  });
});

describe("a script at audiobook length", { timeout: 240_000 }, () => {
  // A chapter read as the script has it, looped, with a refrain (A) the script repeats, one sentence
  // (B) the reader says twice where the script has it once, and the engine's slips (a word misheard,
  // a word missed) at the same places in every loop. Thirty minutes is far past where the search once
  // gave way to a global alignment that could split a repeated pass.
  const LOOP = [A, B, A, C, D];
  const SAID = [A, B, B, A, C, D];
  const said = SAID.map(plain).join(". ");
  const perLoop = said.split(" ").length;
  const slip = (k: number) => k % perLoop;
  const reading = (loops: number) => {
    const heard = spoken(Array.from({ length: loops }, () => said).join(". ")).flatMap((word, k) => (slip(k) === 30 ? [] : slip(k) === 12 || slip(k) === 47 ? [{ ...word, text: "something" }] : [word]));
    return { heard, script: Array.from({ length: loops }, () => LOOP.join(" ")).join("\n\n") };
  };
  const outcome = (loops: number) => {
    const { heard, script } = reading(loops);
    const progress: number[] = [];
    const plan = planScript(heard, script, { minMatch: 0.5, durationSec: null, language: null, onMatching: (done, total) => progress.push(done / total) });
    const { words, report } = timeScript(plan, plan.gaps.map(() => null));
    // Each loop's subtitles, cut after its last word.
    const loopsOut: string[] = [];
    let current: string[] = [];
    for (const word of words) {
      current.push(word.text);
      if (word.text === "that.") [loopsOut[loopsOut.length], current] = [current.join(" "), []];
    }
    return { heard, plan, words, report, progress, loopsOut };
  };

  test("thirty minutes come out as three do, loop by loop: the same words, the sentence said again a pass of its own each time", { timeout: 120_000 }, () => {
    const short = outcome(3);
    const long = outcome(100);
    assert.ok((long.heard.at(-1) as TimedWord).end > 30 * 60, `${(long.heard.at(-1) as TimedWord).end} s of speech`);
    assert.equal(short.loopsOut.length, 3);
    const [first, middle, last] = short.loopsOut as [string, string, string];
    assert.deepEqual(long.loopsOut, [first, ...Array.from({ length: 98 }, () => middle), last]);
    for (const [loops, { report, words }] of [[3, short], [100, long]] as const) {
      assert.deepEqual([report.script_words_not_spoken, report.speech_not_in_script_words], [0, 0], `${loops} loops`);
      assert.equal(report.repeated_passages + report.reordered_passages, loops, `${loops} loops: the sentence said again a pass of its own in each`);
      assertInOrder(words);
    }
    assert.equal(long.plan.gaps.length, (100 / 3) * short.plan.gaps.length, "the same gaps in every loop");
  });

  test("matching the heard words with the script reports its progress as it goes", { timeout: 120_000 }, () => {
    const { progress } = outcome(100);
    assert.ok(progress.length >= 3, `${progress.length} reports`);
    progress.forEach((fraction, k) => assert.ok(fraction > (progress[k - 1] ?? 0) && fraction <= 1, JSON.stringify(progress)));
  });
});

describe("the stretches of media the engine aligns for the gaps", { timeout: 60_000 }, () => {
  // Twelve sentences, one word missed in each: a gap every few seconds, as a long reading has.
  const sentences = Array.from({ length: 12 }, (_, k) => [A, B, C, D][k % 4] as string);
  const heard = heardSaying(...sentences);
  const missed = new Set(heard.map((word, k) => (k % 11 === 5 ? k : -1)).filter((k) => k >= 0));
  const plan = planScript(
    heard.filter((_, k) => !missed.has(k)),
    sentences.join(" "),
    { minMatch: 0.5, durationSec: (heard.at(-1) as TimedWord).end + 1, language: null },
  );
  const windows = alignWindows(plan);

  test("gaps close together share a window of at most 28 s, with a timed word on either side: one encoder pass for several", () => {
    assert.equal(plan.gaps.length, missed.size);
    assert.ok(windows.length < plan.gaps.length / 2, `${windows.length} windows for ${plan.gaps.length} gaps`);
    assert.deepEqual(
      windows.flatMap((window) => window.gaps),
      plan.gaps.map((_, k) => k),
      "every gap in one window, in order",
    );
    for (const window of windows) {
      assert.ok(window.end - window.start <= 28, JSON.stringify(window));
      const [first, last] = [window.gaps[0], window.gaps.at(-1)].map((k) => plan.gaps[k as number]) as [ScriptGap, ScriptGap];
      assert.ok(window.first < first.first && window.last > last.last, "a timed word before the first gap and after the last");
      assert.ok(window.start <= (plan.words[window.first] as TimedWord).start && window.end >= (plan.words[window.last] as TimedWord).end, "the window holds its words' speech");
    }
  });

  test("each gap takes its own words' times from its window's alignment; a window not aligned leaves its gaps to interpolation", () => {
    const aligned = windows.map((window, w) => (w === 0 ? null : plan.words.slice(window.first, window.last + 1).map((_, k) => ({ start: 100 * w + k, end: 100 * w + k + 0.5 }))));
    const times = gapTimesOf(plan, windows, aligned);
    windows.forEach((window, w) => {
      for (const k of window.gaps) {
        const gap = plan.gaps[k] as ScriptGap;
        if (w === 0) assert.equal(times[k], null);
        else assert.deepEqual(times[k]?.map((time) => time.start), Array.from({ length: gap.last - gap.first + 1 }, (_, j) => 100 * w + gap.first - window.first + j));
      }
    });
  });

  test("a gap longer than a window is a window of its own, its words alone", () => {
    const long = heardSaying(A, B);
    const late = long.map((word, k) => (k >= 12 ? { ...word, start: word.start + 40, end: word.end + 40 } : word)).filter((_, k) => k !== 11 && k !== 10);
    const longPlan = planScript(late, `${A} ${B}`, { minMatch: 0.5, durationSec: null, language: null });
    const [only] = alignWindows(longPlan);
    const gap = longPlan.gaps[0] as ScriptGap;
    assert.deepEqual(only, { start: gap.start, end: gap.end, first: gap.first, last: gap.last, gaps: [0] });
  });
});

describe("script words the engine misheard", { timeout: 60_000 }, () => {
  test("are timed where the engine heard the words it wrote in their place, and need no window of the engine's alignment", () => {
    const said = heardSaying(A, B);
    // "discuss" heard as "this cuss", after a pause the engine heard too.
    const misheard = said.flatMap((word, k) => (k === 6 ? [{ ...word, start: word.start + 0.6, end: word.start + 0.8, text: "this" }, { ...word, start: word.start + 0.8, end: word.end + 0.6, text: "cuss" }] : k > 6 ? [{ ...word, start: word.start + 0.6, end: word.end + 0.6 }] : [word]));
    const plan = planScript(misheard, `${A} ${B}`, { minMatch: 0.5, durationSec: null, language: null });
    assert.equal(plan.gaps.length, 1);
    const gap = plan.gaps[0] as ScriptGap;
    assert.deepEqual(gap.heard, { start: (misheard[6] as TimedWord).start, end: (misheard[7] as TimedWord).end }, "the misheard words' span, not the stretch from the word before (with the pause)");
    assert.deepEqual(alignWindows(plan), []);
    const { words, report } = timeScript(plan, [null]);
    assert.deepEqual([report.heard_timed_words, report.aligned_words, report.interpolated_words], [1, 0, 0]);
    const discuss = words[6] as TimedWord;
    assert.equal(discuss.text, "discuss");
    assert.ok(discuss.start === gap.heard?.start && discuss.end <= (gap.heard?.end ?? 0), JSON.stringify(discuss));
  });

  test("a short word heard for a whole phrase does not time it: the phrase goes to the engine's alignment", () => {
    const said = heardSaying(A, B);
    // "why the dredging contract" (words 14 to 17 of the two sentences) heard as one short "uh".
    const misheard = [...said.slice(0, 14), { ...(said[14] as TimedWord), end: (said[14] as TimedWord).start + 0.2, text: "uh" }, ...said.slice(18)];
    const plan = planScript(misheard, `${A} ${B}`, { minMatch: 0.5, durationSec: null, language: null });
    assert.equal(plan.gaps.length, 1);
    assert.equal(plan.gaps[0]?.heard, null);
    assert.equal(alignWindows(plan).length, 1);
  });
});
