/**
 * Refine's promises over random timed word streams (fast-check, shrinking to the smallest
 * counterexample): what holds for any input, that every rule is met whenever the speech allows it,
 * and that a script's words always come out exactly.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { isSophiaError } from "../../core/app/errors.js";
import { jumpAlign } from "../../core/app/refine/token_alignment.js";
import { classifyBreaks } from "../../core/app/refine/break_points.js";
import { refineSegments, resolveRules } from "../../core/app/refine/index.js";
import type { Cue } from "../../core/app/subtitles/index.js";
import { breakLines, measureWords } from "../../core/app/refine/line_breaking.js";
import { textWidth } from "../../core/app/refine/text.js";
import type { TimedWord } from "../../core/app/transcript.js";
import { ENGLISH_RULES, countViolations } from "../support/rule_oracle.js";
import { cueText, spoken } from "../support/timed_words.js";

const RUNS = 150;
/** Cleaning off: these properties are about segmentation and timing, which must keep every word. */
const KEEP_WORDS = { remove_filler: false, collapse_loops: false, capitalize: false };

const letters = (min: number, max: number) => fc.stringMatching(new RegExp(`^[a-z]{${min},${max}}$`));
const punctuation = fc.constantFrom("", "", "", "", ",", ".", "?", "!", ";");

function assertWellFormed(cues: readonly Cue[], rules: ReturnType<typeof resolveRules>): void {
  cues.forEach((cue, k) => {
    const startMs = Math.round(cue.start * 1000);
    const endMs = Math.round(cue.end * 1000);
    assert.ok(endMs > startMs, `cue ${k + 1} has a positive duration`);
    assert.ok(cue.lines.length >= 1 && cue.lines.length <= rules.max_lines, `cue ${k + 1} has 1..${rules.max_lines} lines`);
    const singleWord = cue.lines.length === 1 && !(cue.lines[0] as string).includes(" ");
    for (const line of cue.lines) assert.ok(singleWord || line.length <= rules.max_chars_per_line, `cue ${k + 1}: "${line}" is too long`);
    const next = cues[k + 1];
    if (next) assert.ok(Math.round(next.start * 1000) - endMs >= rules.minGapMs, `cue ${k + 2} keeps the minimum gap`);
  });
}

describe("refine properties", { timeout: 300_000 }, () => {
  test("any timed words: every word kept in order, cues ordered, apart and within their lines; violations reported as the documented limits count them", () => {
    const word = fc.record({ text: fc.tuple(letters(1, 50), punctuation).map(([w, p]) => w + p), gap: fc.double({ min: -0.5, max: 3, noNaN: true }), duration: fc.double({ min: 0, max: 2, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(word, { maxLength: 120 }), fc.integer({ min: 20, max: 60 }), fc.boolean(), (stream, maxChars, children) => {
        const rules = resolveRules({ ...KEEP_WORDS, max_chars_per_line: maxChars, children });
        let at = 0;
        const words: TimedWord[] = stream.map(({ text, gap, duration }) => {
          at = Math.max(0, at + gap);
          const timed = { text, start: at, end: at + duration };
          at += duration;
          return timed;
        });
        const result = refineSegments([{ words }], rules);
        assert.equal(cueText(result.cues), words.map((w) => w.text).join(" "));
        assertWellFormed(result.cues, rules);
        // The oracle counts with the English figures written in the test (20 cps, 17 for children), not the code's.
        const expected = countViolations(result.cues, { maxCps: children ? ENGLISH_RULES.childrenMaxCps : ENGLISH_RULES.maxCps, maxCharsPerLine: maxChars });
        for (const rule of ["max_lines", "max_chars_per_line", "min_duration", "max_duration", "max_cps"] as const) assert.equal(result.violations[rule], expected[rule], rule);
        for (const rule of ["overlap", "order", "min_gap", "empty", "max_lines"] as const) assert.equal(result.violations[rule], 0, rule);
      }),
      { numRuns: RUNS },
    );
  });

  test("speech that allows every rule to be met gets cues that meet every rule", () => {
    // Speech at up to 15 characters per second (the limit is 20, or 17 for children), words of at
    // most 11 characters, pauses of at most 3 s: cutting wherever a cue's speech passes one second
    // meets every rule, so a cue that breaks one is the algorithm's fault, not the input's.
    const sentence = fc.record({
      words: fc.array(fc.tuple(letters(1, 10), fc.constantFrom("", "", "", ",")).map(([w, p]) => w + p), { minLength: 1, maxLength: 15 }),
      end: fc.constantFrom(".", "?", "!"),
      pause: fc.double({ min: 0.05, max: 3, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(sentence, { minLength: 1, maxLength: 25 }),
        fc.double({ min: 8, max: 15, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer({ min: 32, max: 42 }),
        fc.boolean(),
        (sentences, cps, wordGap, maxChars, children) => {
          const rules = resolveRules({ ...KEEP_WORDS, max_chars_per_line: maxChars, children });
          const words: TimedWord[] = [];
          let at = 0.5;
          for (const { words: texts, end, pause } of sentences) {
            texts.forEach((text, i) => {
              const last = i === texts.length - 1;
              const shown = last ? text.replace(/,$/, "") + end : text;
              const duration = (shown.length + 1) / cps;
              words.push({ text: shown, start: at, end: at + duration });
              at += duration + (last ? pause : wordGap);
            });
          }
          const result = refineSegments([{ words }], rules);
          assert.equal(cueText(result.cues), words.map((w) => w.text).join(" "));
          assert.deepEqual(
            Object.entries(result.violations).filter(([, count]) => count > 0),
            [],
            `violations in:\n${result.cues.map((c) => `${c.start.toFixed(3)}-${c.end.toFixed(3)} ${c.lines.join(" / ")}`).join("\n")}`,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("with a script, the output is the script word for word, whatever words the engine missed, misheard or invented", () => {
    const scriptWord = fc.tuple(fc.constantFrom("", "", "", "Q", "The "), letters(1, 9), punctuation).map(([prefix, w, p]) => (prefix === "The " ? `The ${w}${p}` : `${prefix}${w}${p}`));
    const edit = fc.constantFrom("keep", "keep", "keep", "keep", "keep", "keep", "drop", "swap", "add");
    fc.assert(
      fc.property(fc.array(fc.tuple(scriptWord, edit, letters(2, 8)), { minLength: 1, maxLength: 150 }), (plan) => {
        const script = plan.map(([w]) => w).join(" ");
        // A word the engine missed was still said: it leaves its time, not a cut in the speech. Every
        // fourth word is heard right: a whole passage heard differently is different speech (§5.5).
        const said = plan.flatMap(([w, edited, other], k) => {
          const action = k % 4 === 3 ? "keep" : edited;
          const plain = w.toLowerCase().replace(/[^a-z ]/g, "").split(" ");
          if (action === "drop") return plain.map((text) => ({ text, heard: false }));
          if (action === "swap") return [{ text: other, heard: true }];
          if (action === "add") return [...plain, other].map((text) => ({ text, heard: true }));
          return plain.map((text) => ({ text, heard: true }));
        });
        const timed = spoken(said.map((word) => word.text).join(" ") || "um");
        const heard = timed.filter((_, k) => said[k]?.heard ?? true);
        const rules = resolveRules({ min_script_match: 0 });
        const result = refineSegments([{ words: heard.length > 0 ? heard : spoken("um") }], rules, { script });
        assert.equal(cueText(result.cues), script.split(/\s+/).join(" "));
        assertWellFormed(result.cues, rules);
      }),
      { numRuns: RUNS },
    );
  });

  test("a script unrelated to the speech never passes for it", () => {
    // English-like text: half function words, the rest from a long tail, so chance matches are common.
    const functionWords = "the of and to a in is that it was for on are as with they at be this from have or by not but what all were when we there can an which".split(" ");
    const text = fc.array(fc.oneof(fc.constantFrom(...functionWords), letters(3, 9)), { minLength: 10, maxLength: 300 });
    fc.assert(
      fc.property(text, text, (heardWords, scriptWords) => {
        const rules = resolveRules();
        assert.throws(() => refineSegments([{ words: spoken(heardWords.join(" ")) }], rules, { script: scriptWords.join(" ") }), (error) => isSophiaError(error, "script_mismatch"));
      }),
      { numRuns: RUNS },
    );
  });

  test("a language written without spaces: no space is ever added, every word stays whole, every line within the language's limit", () => {
    // Words of Han characters, kana or Thai letters, some ending in the language's punctuation.
    const scripts = { zh: "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经", ja: "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコ日本語東京", th: "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศสหอะาิีึืุู" };
    const language = fc.constantFrom("zh", "ja", "th", "yue");
    fc.assert(
      fc.property(language, fc.integer({ min: 0, max: 1000 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom("", "", "", "，", "。", "、", "！")), { minLength: 1, maxLength: 80 }), fc.double({ min: 1, max: 12, noNaN: true }), (lang, seed, plan, cps) => {
          const letters = [...scripts[lang === "yue" ? "zh" : (lang as keyof typeof scripts)]];
          const rules = resolveRules({ ...KEEP_WORDS }, "test", lang);
          let at = 0.3;
          let k = seed;
          const words: TimedWord[] = plan.map(([length, mark]) => {
            let text = "";
            for (let i = 0; i < length; i++) text += letters[(k = (k * 31 + 7) % 9973) % letters.length];
            text += mark;
            const word = { text, start: at, end: at + [...text].length / cps };
            at = word.end + 0.02;
            return word;
          });
          const result = refineSegments([{ words }], rules);
          const shown = result.cues.flatMap((cue) => cue.lines);
          assert.equal(shown.join(""), words.map((word) => word.text).join(""));
          assert.ok(shown.every((line) => !/\s/.test(line)), shown.join(" / "));
          assert.ok(shown.every((line) => textWidth(line, rules.writing) <= rules.max_chars_per_line), shown.join(" / "));
          // Every word whole: each line starts where a word starts.
          const starts = new Set<number>();
          let offset = 0;
          for (const word of words) {
            starts.add(offset);
            offset += word.text.length;
          }
          offset = 0;
          for (const line of shown) {
            assert.ok(starts.has(offset), `"${line}" starts inside a word`);
            offset += line.length;
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("line breaking keeps every word, fits the width, and uses one line when one is enough", () => {
    fc.assert(
      fc.property(fc.array(letters(1, 20), { minLength: 1, maxLength: 20 }), (words) => {
        const broken = breakLines(measureWords(words, resolveRules().writing), classifyBreaks(words), { max_lines: 2, max_chars_per_line: 42 });
        const text = words.join(" ");
        if (text.length <= 42) assert.deepEqual(broken?.lines, [text]);
        // Independent of the code: the words fit on two lines when some break leaves both within 42.
        const fitsOnTwo = words.some((_, i) => i > 0 && words.slice(0, i).join(" ").length <= 42 && words.slice(i).join(" ").length <= 42);
        if (text.length > 42) assert.equal(broken !== null, fitsOnTwo, `${fitsOnTwo ? "fits" : "cannot fit"} on two lines: ${text}`);
        if (!broken) return;
        assert.equal(broken.lines.join(" "), text);
        assert.ok(broken.lines.length <= 2 && broken.lines.every((line) => line.length <= 42), broken.lines.join(" / "));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  test("alignment with jumps pairs only equal tokens, each chain increasing in both, the chains in the order of the speech", () => {
    const tokens = fc.array(fc.constantFrom("a", "b", "c", "d", "e"), { maxLength: 60 });
    fc.assert(
      fc.property(tokens, tokens, (a, b) => {
        const chains = jumpAlign(a, b, 0, a.length);
        let previousA = -1;
        for (const chain of chains) {
          assert.ok(chain.bStart <= (chain.pairs[0] as [number, number])[1] && chain.bEnd > (chain.pairs.at(-1) as [number, number])[1]);
          chain.pairs.forEach(([i, j], k) => {
            assert.equal(a[i], b[j]);
            assert.ok(i > previousA, "in the order of the speech");
            if (k > 0) assert.ok(j > (chain.pairs[k - 1] as [number, number])[1]);
            previousA = i;
          });
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
