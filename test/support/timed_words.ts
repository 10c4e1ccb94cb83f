/**
 * Timed words for refine's unit tests: text "spoken" at a steady rate, with a pause after each
 * sentence, or with pauses exactly where a test wants them.
 */
import type { TimedWord, Transcript } from "../../core/app/transcript.js";

/** Every word of a transcript, in order. */
export function transcriptWords(transcript: Transcript): TimedWord[] {
  return transcript.segments.flatMap((segment) => segment.words);
}

export interface Speaking {
  /** Characters per second (a word and its following space take (length + 1) / cps seconds). */
  cps?: number;
  start?: number;
  /** Silence after a word that ends a sentence. */
  sentencePause?: number;
  /** Silence after any other word. */
  wordGap?: number;
  /** Extra silence after the word at each index. */
  pauses?: Record<number, number>;
}

export function spoken(text: string, how: Speaking = {}): TimedWord[] {
  const { cps = 15, start = 0.5, sentencePause = 0.4, wordGap = 0.02, pauses = {} } = how;
  let at = start;
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((word, i) => {
      const end = at + (word.length + 1) / cps;
      const timed = { text: word, start: round(at), end: round(end) };
      at = end + (/[.!?]$/.test(word) ? sentencePause : wordGap) + (pauses[i] ?? 0);
      return timed;
    });
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** The text of cues, lines joined with spaces. */
export function cueText(cues: readonly { lines: string[] }[]): string {
  return cues.map((cue) => cue.lines.join(" ")).join(" ");
}
