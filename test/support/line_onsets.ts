/**
 * Where lines of speech really start, and how far subtitles start from them: ground truth for cue
 * timing on the corpus readings (test/fixtures/corpus_onsets, made from the audio's energy by
 * derive_onsets.py) and on espeak-ng speech (harness.spokenSentences).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Cue } from "../../core/app/subtitles/index.js";
import { PROJECT } from "./harness.js";

export { CORPUS } from "./corpus.js";

export interface SpokenLine {
  text: string;
  /** Seconds; null where the line follows the one before without a pause, so has no reference onset. */
  onset: number | null;
}

export function corpusOnsets(name: string): { duration_sec: number; lines: SpokenLine[] } {
  return JSON.parse(readFileSync(path.join(PROJECT, "test", "fixtures", "corpus_onsets", `${name}.json`), "utf8")) as { duration_sec: number; lines: SpokenLine[] };
}

/** A line's or cue's first two words, lower case, letters only: what says "this cue begins that line". */
function opening(text: string): string {
  return text
    .toLowerCase()
    .normalize("NFD")
    .replace(/[^\p{L}\p{N} ]/gu, "")
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .join(" ");
}

/** For each line with an onset that begins a cue: how far (seconds) that cue starts from it. */
export function cueStartErrors(cues: readonly Cue[], lines: readonly SpokenLine[]): { line: string; error: number }[] {
  const used = new Set<Cue>();
  return lines.flatMap((line) => {
    if (line.onset === null) return [];
    const cue = cues.find((candidate) => !used.has(candidate) && opening(candidate.lines.join(" ")) === opening(line.text) && Math.abs(candidate.start - (line.onset as number)) < 5);
    if (!cue) return [];
    used.add(cue);
    return [{ line: line.text, error: Math.abs(cue.start - line.onset) }];
  });
}
