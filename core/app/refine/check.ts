/**
 * The subtitle rules as a linter: every way a list of cues breaks them, one violation per cue and
 * rule. `sophia-cli check` prints these; the refine stage counts what its own output still breaks.
 * Times are compared in whole milliseconds, as the SRT file holds them.
 */
import type { RefineRules } from "./rules.js";
import type { Cue } from "../subtitles/index.js";
import { textWidth } from "./text.js";

export const RULE_NAMES = ["empty", "max_lines", "max_chars_per_line", "min_duration", "max_duration", "max_cps", "min_gap", "overlap", "order"] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Violation {
  /** 1-based position of the cue in the file. */
  cue: number;
  rule: RuleName;
  message: string;
}

export type CheckRules = Pick<RefineRules, "max_lines" | "max_chars_per_line" | "max_cps" | "minDurationMs" | "maxDurationMs" | "minGapMs" | "writing">;

export function checkCues(cues: readonly Cue[], rules: CheckRules): Violation[] {
  const violations: Violation[] = [];
  let previous: { startMs: number; endMs: number } | null = null;
  cues.forEach((cue, index) => {
    const number = index + 1;
    const add = (rule: RuleName, problem: string) => violations.push({ cue: number, rule, message: `cue ${number}: ${problem}` });
    const startMs = Math.round(cue.start * 1000);
    const endMs = Math.round(cue.end * 1000);
    const durationMs = endMs - startMs;
    const chars = cue.lines.reduce((sum, line) => sum + textWidth(line, rules.writing), 0);

    if (chars === 0) add("empty", "has no text");
    if (cue.lines.length > rules.max_lines) add("max_lines", `has ${cue.lines.length} lines (max ${rules.max_lines})`);
    cue.lines.forEach((line, i) => {
      const length = textWidth(line, rules.writing);
      if (length > rules.max_chars_per_line) add("max_chars_per_line", `line ${i + 1} has ${length} characters (max ${rules.max_chars_per_line}): "${line}"`);
    });
    if (durationMs < rules.minDurationMs) add("min_duration", `is on screen ${seconds(durationMs)} s (min ${seconds(rules.minDurationMs)} s)`);
    if (durationMs > rules.maxDurationMs) add("max_duration", `is on screen ${seconds(durationMs)} s (max ${seconds(rules.maxDurationMs)} s)`);
    if (durationMs > 0 && chars * 1000 > rules.max_cps * durationMs) {
      add("max_cps", `needs ${((chars * 1000) / durationMs).toFixed(1)} characters per second (max ${rules.max_cps}): ${chars} characters in ${seconds(durationMs)} s`);
    }
    if (previous) {
      if (startMs < previous.startMs) add("order", `starts at ${seconds(startMs)} s, before the cue before it (${seconds(previous.startMs)} s)`);
      else if (startMs < previous.endMs) add("overlap", `starts at ${seconds(startMs)} s, while the cue before it is on screen until ${seconds(previous.endMs)} s`);
      else if (startMs - previous.endMs < rules.minGapMs) add("min_gap", `starts ${startMs - previous.endMs} ms after the cue before it ends (min ${rules.minGapMs} ms)`);
    }
    previous = { startMs, endMs };
  });
  return violations;
}

/** Violations per rule, every rule present (0 when none). */
export function summarize(violations: readonly Violation[]): Record<RuleName, number> {
  const counts = Object.fromEntries(RULE_NAMES.map((rule) => [rule, 0])) as Record<RuleName, number>;
  for (const violation of violations) counts[violation.rule]++;
  return counts;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
