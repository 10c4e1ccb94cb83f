/**
 * An oracle for the subtitle rules, independent of refine's own checker (refine/check.ts): the
 * documented English figures written out here, and the counting done by hand, so a limit changed in
 * the code (in languages.ts, rules.ts or check.ts) shows up as a disagreement. Latin text only: a
 * character is a UTF-16 unit, as it is for the ASCII words the properties generate.
 */
import type { Cue } from "../../core/app/subtitles/index.js";

/** The README's and spec's defaults for English: Netflix's figures, times in whole milliseconds. */
export const ENGLISH_RULES = {
  maxCps: 20,
  childrenMaxCps: 17,
  maxLines: 2,
  maxCharsPerLine: 42,
  /** 5/6 s (20 frames at 24 fps), in whole milliseconds. */
  minDurationMs: 833,
  maxDurationMs: 7000,
  /** 2 frames at 24 fps, in whole milliseconds. */
  minGapMs: 83,
} as const;

export interface OracleCounts {
  max_lines: number;
  max_chars_per_line: number;
  min_duration: number;
  max_duration: number;
  max_cps: number;
}

/** Cues that break each rule (a cue counts once per line that is too long), by the documented figures. */
export function countViolations(cues: readonly Cue[], limits: { maxCps: number; maxCharsPerLine: number }): OracleCounts {
  const counts: OracleCounts = { max_lines: 0, max_chars_per_line: 0, min_duration: 0, max_duration: 0, max_cps: 0 };
  for (const cue of cues) {
    const durationMs = Math.round(cue.end * 1000) - Math.round(cue.start * 1000);
    const chars = cue.lines.join("").length;
    if (cue.lines.length > ENGLISH_RULES.maxLines) counts.max_lines++;
    counts.max_chars_per_line += cue.lines.filter((line) => line.length > limits.maxCharsPerLine).length;
    if (durationMs < ENGLISH_RULES.minDurationMs) counts.min_duration++;
    if (durationMs > ENGLISH_RULES.maxDurationMs) counts.max_duration++;
    if (durationMs > 0 && chars / (durationMs / 1000) > limits.maxCps) counts.max_cps++;
  }
  return counts;
}
