/**
 * Words from subtitle cues, for refining an SRT file that has no word timings (a raw SRT in a
 * `["refine"]`-only pipeline, or `sophia-cli refine`): each cue's time is shared among its words in
 * proportion to their length.
 *
 * A language written without spaces has no spaces to split at: its text is cut into words by the
 * Unicode word-break rules with ICU's dictionaries (`Intl.Segmenter`), punctuation kept with the
 * word it follows (an opening bracket or quote with the word it opens).
 */
import type { TimedWord } from "../transcript.js";
import type { TimedSegment } from "./clean.js";
import { writingOf } from "./languages.js";
import type { Cue } from "../subtitles/index.js";

/** `language` is the subtitles' language (null: unknown, split at spaces). */
export function segmentsFromCues(cues: readonly Cue[], language: string | null = null): TimedSegment[] {
  const split = wordSplitter(language);
  return cues.map((cue) => ({ words: timeWords(split(cue.lines.join(" ")), cue) }));
}

/** How a text of `language` is cut into words: at spaces, or, written without spaces, by ICU's dictionaries. */
export function wordSplitter(language: string | null): (text: string) => string[] {
  return writingOf(language).unspaced ? dictionarySplitter(language) : splitAtSpaces;
}

function splitAtSpaces(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word !== "");
}

const OPENERS = /^[\p{Ps}\p{Pi}"'¿¡]+$/u;

function dictionarySplitter(language: string | null): (text: string) => string[] {
  const segmenter = new Intl.Segmenter(language ?? undefined, { granularity: "word" });
  return (text) => {
    const words: string[] = [];
    let opening = "";
    for (const { segment, isWordLike } of segmenter.segment(text)) {
      if (/^\s+$/u.test(segment)) continue;
      if (isWordLike) {
        words.push(opening + segment);
        opening = "";
      } else if (opening !== "" || words.length === 0 || OPENERS.test(segment)) opening += segment;
      else words[words.length - 1] += segment;
    }
    if (opening !== "") words.push(opening);
    return words;
  };
}

function timeWords(texts: readonly string[], cue: Cue): TimedWord[] {
  const weights = texts.map((text) => [...text].length + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const duration = Math.max(0, cue.end - cue.start);
  let at = cue.start;
  return texts.map((text, i) => {
    const start = at;
    at += (duration * (weights[i] as number)) / total;
    return { text, start, end: at };
  });
}
