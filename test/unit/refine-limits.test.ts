/**
 * The reading-speed limits at their edges, by the figures the README and spec document (Netflix:
 * English 20 characters a second, 17 for children; German 17 and 13): a cue just under the limit
 * passes `check`, one just over breaks it. Far-over cases elsewhere cannot tell 20 from 40.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkCues, resolveRules } from "../../core/app/refine/index.js";
import type { Cue } from "../../core/app/subtitles/index.js";

/** One cue of `chars` letters shown for exactly one second. */
const oneSecond = (chars: number): Cue[] => [{ start: 1, end: 2, lines: ["x".repeat(chars)] }];
const cpsViolations = (cues: Cue[], rules: ReturnType<typeof resolveRules>) => checkCues(cues, rules).filter((violation) => violation.rule === "max_cps").length;

describe("reading speed at the limit", { timeout: 30_000 }, () => {
  test("English: 20 characters in a second pass, 21 do not", () => {
    const rules = resolveRules();
    assert.equal(cpsViolations(oneSecond(20), rules), 0);
    assert.equal(cpsViolations(oneSecond(21), rules), 1);
  });

  test("English for children: 17 pass, 18 do not", () => {
    const rules = resolveRules({ children: true });
    assert.equal(cpsViolations(oneSecond(17), rules), 0);
    assert.equal(cpsViolations(oneSecond(18), rules), 1);
  });

  test("German: 17 pass, 18 do not; 13 and 14 for children", () => {
    assert.equal(cpsViolations(oneSecond(17), resolveRules({}, "test", "de")), 0);
    assert.equal(cpsViolations(oneSecond(18), resolveRules({}, "test", "de")), 1);
    assert.equal(cpsViolations(oneSecond(13), resolveRules({ children: true }, "test", "de")), 0);
    assert.equal(cpsViolations(oneSecond(14), resolveRules({ children: true }, "test", "de")), 1);
  });

  test("an explicit max_cps wins over the language's", () => {
    const rules = resolveRules({ max_cps: 25 });
    assert.equal(cpsViolations(oneSecond(25), rules), 0);
    assert.equal(cpsViolations(oneSecond(26), rules), 1);
  });
});
