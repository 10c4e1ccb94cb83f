/**
 * When a cue is on screen. It appears when its first word is spoken and stays until its last word
 * ends, extended into the silence after it until it has been up for the minimum duration and long
 * enough to read at the reading-speed limit, but never past the maximum duration and never closer
 * than the minimum gap to the next cue. All in integer milliseconds, as an SRT file holds them.
 */
import type { RefineRules } from "./rules.js";

export type TimingRules = Pick<RefineRules, "minDurationMs" | "maxDurationMs" | "minGapMs" | "max_cps">;

/** The end of a cue that starts at `startMs`; `nextStartMs` is when the next cue starts (null for the last). */
export function displayEnd(startMs: number, speechEndMs: number, chars: number, nextStartMs: number | null, rules: TimingRules): number {
  const readMs = Math.ceil((chars * 1000) / rules.max_cps);
  let want = Math.max(speechEndMs, startMs + rules.minDurationMs, startMs + readMs);
  if (want - startMs > rules.maxDurationMs) want = Math.max(speechEndMs, startMs + rules.maxDurationMs);
  const end = nextStartMs === null ? want : Math.min(want, nextStartMs - rules.minGapMs);
  return Math.max(end, startMs + 1);
}

export interface TimedSpan {
  startMs: number;
  endMs: number;
}

/**
 * Display times for consecutive cues given each one's speech span and character count. A cue whose
 * speech starts less than the minimum gap after the previous cue's end starts later, so cues never
 * overlap or crowd each other, whatever the word times were.
 */
export function layOutTimes(cues: readonly { speechStartMs: number; speechEndMs: number; chars: number }[], rules: TimingRules): TimedSpan[] {
  const spans: TimedSpan[] = [];
  let previousEnd: number | null = null;
  for (let k = 0; k < cues.length; k++) {
    const cue = cues[k] as (typeof cues)[number];
    const startMs = previousEnd === null ? cue.speechStartMs : Math.max(cue.speechStartMs, previousEnd + rules.minGapMs);
    const next = cues[k + 1];
    const endMs = displayEnd(startMs, cue.speechEndMs, cue.chars, next ? next.speechStartMs : null, rules);
    spans.push({ startMs, endMs });
    previousEnd = endMs;
  }
  return spans;
}
