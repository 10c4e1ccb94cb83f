/**
 * Words from subtitle cues, for refining an SRT file that has no word timings (a raw SRT in a
 * `["refine"]`-only pipeline, or `sophia-cli refine`): each cue's time is shared among its words in
 * proportion to their length.
 */
import type { TimedWord } from "../transcript.js";
import type { TimedSegment } from "./clean.js";
import type { Cue } from "./srt.js";

export function segmentsFromCues(cues: readonly Cue[]): TimedSegment[] {
  return cues.map((cue) => ({ words: wordsOfCue(cue) }));
}

function wordsOfCue(cue: Cue): TimedWord[] {
  const texts = cue.lines.join(" ").split(/\s+/u).filter((text) => text !== "");
  const weights = texts.map((text) => text.length + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const duration = Math.max(0, cue.end - cue.start);
  let at = cue.start;
  return texts.map((text, i) => {
    const start = at;
    at += (duration * (weights[i] as number)) / total;
    return { text, start, end: at };
  });
}
