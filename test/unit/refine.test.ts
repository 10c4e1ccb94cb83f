/**
 * The refine rules on hand-written cases: rule settings, the linter, line
 * breaking, cue segmentation and timing, cleaning, and script alignment.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { alignScript } from "../support/script_alignment.js";
import { classifyBreaks } from "../../core/app/refine/break_points.js";
import { checkCues, refineSegments, resolveRules, segmentsFromCues, summarize } from "../../core/app/refine/index.js";
import type { Cue } from "../../core/app/subtitles/index.js";
import { breakLines, measureWords } from "../../core/app/refine/line_breaking.js";
import { spellNumber } from "../../core/app/refine/numbers.js";
import { matchTokens } from "../../core/app/refine/text.js";
import { layOutTimes } from "../../core/app/refine/timing.js";
import { cueText, spoken } from "../support/timed_words.js";

const RULES = resolveRules();

function lines(text: string, maxChars = 42): string[] | null {
  const words = text.split(" ");
  return breakLines(measureWords(words, RULES.writing), classifyBreaks(words), { max_lines: 2, max_chars_per_line: maxChars })?.lines ?? null;
}

function refine(text: string, how: Parameters<typeof spoken>[1] = {}, rules = RULES) {
  return refineSegments([{ words: spoken(text, how) }], rules);
}

describe("rule settings", { timeout: 60_000 }, () => {
  test("defaults are the Netflix English ones, in the milliseconds an SRT file holds", () => {
    assert.equal(RULES.max_lines, 2);
    assert.equal(RULES.max_chars_per_line, 42);
    assert.equal(RULES.minDurationMs, 833);
    assert.equal(RULES.maxDurationMs, 7000);
    assert.equal(RULES.max_cps, 20);
    assert.equal(RULES.minGapMs, 83);
    assert.equal(RULES.maxCueChars, 85);
  });

  test("children's content reads at 17 characters per second unless max_cps says otherwise", () => {
    assert.equal(resolveRules({ children: true }).max_cps, 17);
    assert.equal(resolveRules({ children: true, max_cps: 15 }).max_cps, 15);
  });

  test("a misspelt or mistyped rule is refused, naming it and listing the known ones", () => {
    assert.throws(
      () => resolveRules({ max_char_per_line: 37 }),
      (error) => isSophiaError(error, "task_invalid") && /config_snapshot\.refine: Unrecognized key: "max_char_per_line"/.test(error.message) && /max_chars_per_line/.test(error.message),
    );
    assert.throws(() => resolveRules({ max_lines: "two" }), (error) => isSophiaError(error, "task_invalid") && /config_snapshot\.refine\.max_lines/.test(error.message));
    assert.throws(() => resolveRules({ min_duration_sec: 3, max_duration_sec: 2 }), /max_duration_sec \(2\) is shorter than min_duration_sec \(3\)/);
  });
});

describe("check", { timeout: 60_000 }, () => {
  test("reports each rule a cue breaks, with the cue's number", () => {
    const cues: Cue[] = [
      { start: 0, end: 2, lines: ["Fine."] },
      { start: 2.05, end: 2.5, lines: ["Too close and too short."] },
      { start: 2.4, end: 10, lines: ["Overlapping, and on screen for far too long a time to be any good."] },
      { start: 1, end: 3, lines: ["Out", "of", "order"] },
      { start: 20, end: 21, lines: ["This line is fine", "but the cue says much more than anyone can read in a second."] },
      { start: 30, end: 31, lines: [] },
    ];
    const violations = checkCues(cues, RULES);
    const byCue = (n: number) => violations.filter((v) => v.cue === n).map((v) => v.rule).sort();
    assert.deepEqual(byCue(1), []);
    assert.deepEqual(byCue(2), ["max_cps", "min_duration", "min_gap"]);
    assert.deepEqual(byCue(3), ["max_chars_per_line", "max_duration", "overlap"]);
    assert.deepEqual(byCue(4), ["max_lines", "order"]);
    assert.deepEqual(byCue(5), ["max_chars_per_line", "max_cps"]);
    assert.deepEqual(byCue(6), ["empty"]);
    assert.match(violations.find((v) => v.cue === 3 && v.rule === "max_chars_per_line")?.message ?? "", /^cue 3: line 1 has 66 characters \(max 42\)/);
    const summary = summarize(violations);
    assert.equal(summary.max_cps, 2);
    assert.equal(Object.keys(summary).length, 9);
  });

  test("a gap of exactly two frames at 24 fps and a 5/6 s cue pass", () => {
    const cues: Cue[] = [
      { start: 0, end: 0.833, lines: ["Short."] },
      { start: 0.916, end: 2, lines: ["Next."] },
    ];
    assert.deepEqual(checkCues(cues, RULES), []);
  });
});

describe("line breaking", { timeout: 60_000 }, () => {
  test("a cue that fits on one line stays on one line", () => {
    assert.deepEqual(lines("Thank you for joining the quarterly call."), ["Thank you for joining the quarterly call."]);
  });

  test("breaks after clause punctuation rather than where the lines would be even", () => {
    assert.deepEqual(lines("When the meeting ended, we all went back to our desks."), ["When the meeting ended,", "we all went back to our desks."]);
  });

  test("never between an article or adjective and its noun", () => {
    // Even lines would break after "the" or "beautiful".
    assert.deepEqual(lines("She finally bought the beautiful old house near the station"), ["She finally bought", "the beautiful old house near the station"]);
  });

  test("never inside a name", () => {
    const broken = lines("Yesterday afternoon I had a long conversation with John Smith about it") as string[];
    assert.ok(!/John$/.test(broken[0] as string), broken.join(" / "));
  });

  test("prefers a break before a conjunction or preposition, and a longer lower line when the choice is free", () => {
    assert.deepEqual(lines("We looked at every single option we had and chose the cheapest one"), ["We looked at every single option we had", "and chose the cheapest one"]);
    const pyramid = lines("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda") as string[];
    assert.ok((pyramid[0] as string).length <= (pyramid[1] as string).length, pyramid.join(" / "));
  });

  test("parts of speech count only for English; other languages break by punctuation alone", () => {
    const words = "the lazy dog sleeps, and the cat too".split(" ");
    assert.deepEqual(classifyBreaks(words, "en").slice(0, 4), ["never", "never", "plain", "clause"]);
    assert.deepEqual(classifyBreaks(words, "fr").slice(0, 4), ["plain", "plain", "plain", "clause"]);
  });

  test("text that cannot fit in the lines allowed gives null", () => {
    assert.equal(lines("This sentence is much too long to fit into two lines of forty-two characters each, however it is broken."), null);
  });
});

describe("segmentation and timing", { timeout: 60_000 }, () => {
  test("one cue per sentence when each can be read on its own", () => {
    const { cues, violations } = refine("Good morning, everyone. Thank you for joining the quarterly review. Let us begin with the numbers.");
    assert.deepEqual(cues.map((cue) => cue.lines.join(" ")), ["Good morning, everyone.", "Thank you for joining the quarterly review.", "Let us begin with the numbers."]);
    assert.ok(Object.values(violations).every((count) => count === 0), JSON.stringify(violations));
  });

  test("a fragment too short to read merges with a neighbour", () => {
    const { cues, violations } = refine("Yes. We will ship the new editor next week.", { cps: 15, sentencePause: 0.05 });
    assert.equal(cues.length, 1, cues.map((cue) => cue.lines.join(" ")).join(" | "));
    assert.ok(Object.values(violations).every((count) => count === 0), JSON.stringify(violations));
  });

  test("a long sentence splits at its clause punctuation", () => {
    const { cues } = refine("The team reviewed every request that came in during the spring, and then we decided together which of them would go into the next release of the product.");
    assert.ok(cues.length >= 2);
    assert.match((cues[0] as Cue).lines.join(" "), /spring,$/);
  });

  test("a long pause ends a cue even without punctuation", () => {
    const text = "we talked about the budget for a while then somebody asked about hiring";
    const pauseAfter = text.split(" ").indexOf("while");
    const { cues } = refine(text, { pauses: { [pauseAfter]: 2 } });
    assert.deepEqual(cues.map((cue) => cue.lines.join(" ")), ["We talked about the budget for a while", "then somebody asked about hiring"]);
  });

  test("slow continuous speech is cut before any cue passes 7 seconds", () => {
    const { cues, violations } = refine("and so we walked along the river for hours talking about nothing in particular until the sun went down behind the hills", { cps: 6 });
    assert.ok(cues.length >= 2);
    for (const cue of cues) assert.ok(cue.end - cue.start <= 7, `${cue.start}-${cue.end}`);
    assert.equal(violations.max_duration, 0);
  });

  test("a cue stays up into the silence after it until it can be read, never closer than 2 frames to the next", () => {
    const spans = layOutTimes(
      [
        { speechStartMs: 0, speechEndMs: 300, chars: 40 },
        { speechStartMs: 5000, speechEndMs: 5400, chars: 5 },
        { speechStartMs: 5600, speechEndMs: 6400, chars: 30 },
      ],
      RULES,
    );
    assert.deepEqual(spans, [
      { startMs: 0, endMs: 2000 }, // 40 characters at 20 per second
      { startMs: 5000, endMs: 5517 }, // wants 833 ms, but the next cue starts at 5600
      { startMs: 5600, endMs: 7100 }, // 30 characters at 20 per second
    ]);
  });

  test("word times that overlap the previous cue push the cue later instead of overlapping it", () => {
    const spans = layOutTimes(
      [
        { speechStartMs: 1000, speechEndMs: 1000, chars: 10 },
        { speechStartMs: 1000, speechEndMs: 2000, chars: 10 },
      ],
      RULES,
    );
    assert.deepEqual(spans, [
      { startMs: 1000, endMs: 1001 },
      { startMs: 1084, endMs: 2000 },
    ]);
  });

  test("without a script, sentences start with a capital and a lone i is I", () => {
    const { cues } = refine("well i think so. the plan is fine.", {}, resolveRules({ remove_filler: false }));
    assert.equal(cueText(cues), "Well I think so. The plan is fine.");
  });
});

describe("cleaning", { timeout: 60_000 }, () => {
  test("Whisper's repeated-phrase loops keep their first occurrence; a real triple 'no' stays", () => {
    const loop = "thank you for coming ".repeat(5).trim();
    const { cues, cleaning } = refine(`${loop} and no, no, no, that is not it.`);
    assert.equal(cueText(cues), "Thank you for coming and no, no, no, that is not it.");
    assert.equal(cleaning.loop_words_removed, 16);
  });

  test("filler the engine doubted is removed, the same words said clearly stay", () => {
    const speech = spoken("We are done for today.");
    const doubted = { words: spoken("Thank you.", { start: 20 }), no_speech_prob: 0.8 };
    const clear = { words: spoken("Thank you.", { start: 20 }).map((word) => ({ ...word, probability: 0.95 })), no_speech_prob: 0.02, avg_logprob: -0.2 };
    const lowProbability = { words: spoken("Thanks for watching!", { start: 20 }).map((word) => ({ ...word, probability: 0.2 })) };
    assert.equal(cueText(refineSegments([{ words: speech }, doubted], RULES).cues), "We are done for today.");
    assert.equal(cueText(refineSegments([{ words: speech }, lowProbability], RULES).cues), "We are done for today.");
    assert.equal(cueText(refineSegments([{ words: speech }, clear], RULES).cues), "We are done for today. Thank you.");
  });

  test("a segment of punctuation alone (Whisper's answer to noise) gives no cue of just \".\"", { timeout: 30_000 }, () => {
    const noise = { words: [{ text: " .", start: 20, end: 21 }], no_speech_prob: 0.3 };
    assert.equal(cueText(refineSegments([{ words: spoken("We are done for today.") }, noise], RULES).cues), "We are done for today.");
    assert.deepEqual(refineSegments([noise], RULES).cues, []);
  });

  test("zero-width non-joiners and joiners inside a word are kept (Persian spelling, emoji sequences); zero-width spaces go", { timeout: 30_000 }, () => {
    const persian = "می\u200Cخواهم";
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    const { cues } = refine(`${persian} ${family} ok\u200B.`, {}, resolveRules({ language: "fa" }));
    assert.equal(cueText(cues), `${persian} ${family} ok.`);
  });

  test("sound tags are not speech", () => {
    const { cues } = refine("[Music] Welcome back. (upbeat music) ♪ Let us start.");
    assert.equal(cueText(cues), "Welcome back. Let us start.");
  });
});

describe("script alignment", { timeout: 60_000 }, () => {
  const script = "Good morning, everyone. Revenue grew by twelve percent, and our customers renewed at record rates. Please send your questions before Friday.";

  test("the refined text is the script word for word, where the engine missed, misheard and invented words", () => {
    const heard = spoken("good morning everyone revenue grew by 12% and our customers renewed at record rates uh you know please send your questions before friday");
    const missing = heard.filter((word) => !["record", "rates"].includes(word.text));
    const { cues, alignment } = refineSegments([{ words: missing }], RULES, { script });
    assert.equal(cueText(cues), script);
    assert.ok(alignment && alignment.match_ratio > 0.8, JSON.stringify(alignment));
    assert.equal(alignment.interpolated_words + alignment.heard_timed_words, 2, "timed without the engine: where it heard other words, or between their neighbours");
    for (let k = 1; k < cues.length; k++) assert.ok((cues[k] as Cue).start >= (cues[k - 1] as Cue).end);
  });

  test("matched words keep the heard times; missed ones share the time around them", () => {
    const heard = spoken("one two four five");
    const { words } = alignScript(heard, "One, two, three, four, five.", 0.5);
    assert.deepEqual(words.map((word) => word.text), ["One,", "two,", "three,", "four,", "five."]);
    assert.deepEqual([words[0]?.start, words[1]?.end, words[3]?.start], [heard[0]?.start, heard[1]?.end, heard[2]?.start]);
    const three = words[2] as { start: number; end: number };
    assert.ok(three.start >= (heard[1]?.end as number) && three.end <= (heard[2]?.start as number), JSON.stringify(three));
  });

  test("numbers and symbols are compared as spoken", () => {
    assert.deepEqual(matchTokens("12%,"), ["twelve", "percent"]);
    assert.deepEqual(matchTokens("Twenty-one"), ["twenty", "one"]);
    assert.deepEqual(spellNumber("1,205"), ["one", "thousand", "two", "hundred", "five"]);
    assert.deepEqual(spellNumber("21st"), ["twenty", "first"]);
    assert.deepEqual(spellNumber("$3.50"), ["three", "point", "five", "zero", "dollars"]);
    assert.deepEqual(spellNumber("1990s"), ["one", "thousand", "nine", "hundred", "nineties"]);
  });

  test("a script that does not fit the media fails with script_mismatch", () => {
    const heard = spoken("good morning everyone thank you for joining the quarterly review revenue grew by twelve percent");
    assert.throws(
      () => alignScript(heard, "Mix the flour with two eggs and a pinch of salt, then bake the loaf for forty minutes.", 0.5),
      (error) => isSophiaError(error, "script_mismatch") && /the script does not fit the media: only \d+% of its words/.test(error.message),
    );
    assert.throws(() => alignScript(heard, "  \n ", 0.5), (error) => isSophiaError(error, "script_mismatch") && /no words/.test(error.message));
  });

  test("re-refining an SRT without word times spreads each cue's time over its words", () => {
    // Each word with the space after it: 3, 3 and 5 of 11 parts of the cue's 2.2 seconds.
    const [segment] = segmentsFromCues([{ start: 1, end: 3.2, lines: ["ab cd", "efgh"] }]);
    assert.deepEqual(
      segment?.words.map((word) => [word.text, Math.round(word.start * 1000), Math.round(word.end * 1000)]),
      [
        ["ab", 1000, 1600],
        ["cd", 1600, 2200],
        ["efgh", 2200, 3200],
      ],
    );
  });
});
