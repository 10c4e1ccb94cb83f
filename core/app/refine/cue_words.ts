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

/** A word as written, before it is timed. */
export type WrittenWord = Pick<TimedWord, "text" | "space_before">;

/**
 * `language` is the subtitles' language (null: unknown, split at spaces). A cue's start counts as a
 * space before its first word: in Thai a new cue begins a new phrase.
 */
export function segmentsFromCues(cues: readonly Cue[], language: string | null = null): TimedSegment[] {
  const split = wordSplitter(language);
  return cues.map((cue) => ({ words: timeWords(split(` ${cue.lines.join(" ")}`), cue) }));
}

/**
 * How a text of `language` is cut into words: at spaces, or, written without spaces, by ICU's
 * dictionaries, marking the words a space came before where the language puts spaces between phrases.
 */
export function wordSplitter(language: string | null): (text: string) => WrittenWord[] {
  const writing = writingOf(language);
  return writing.unspaced ? dictionarySplitter(language, writing.phraseSpaced) : splitAtSpaces;
}

function splitAtSpaces(text: string): WrittenWord[] {
  return text
    .split(/\s+/u)
    .filter((word) => word !== "")
    .map((word) => ({ text: word }));
}

const OPENERS = /^[\p{Ps}\p{Pi}"'¿¡]+$/u;

function dictionarySplitter(language: string | null, keepSpaces: boolean): (text: string) => WrittenWord[] {
  const segmenter = new Intl.Segmenter(language ?? undefined, { granularity: "word" });
  return (text) => {
    const words: WrittenWord[] = [];
    let opening = "";
    let spaced = false;
    const push = (word: string) => {
      words.push(spaced && keepSpaces ? { text: word, space_before: true } : { text: word });
      spaced = false;
    };
    for (const { segment, isWordLike } of segmenter.segment(text)) {
      if (/^\s+$/u.test(segment)) {
        if (opening === "") spaced = true;
        continue;
      }
      const last = words.at(-1);
      if (isWordLike) {
        push(opening + segment);
        opening = "";
      } else if (opening !== "" || !last || (spaced && keepSpaces) || OPENERS.test(segment)) opening += segment;
      else last.text += segment;
    }
    if (opening !== "") push(opening);
    return words;
  };
}

function timeWords(written: readonly WrittenWord[], cue: Cue): TimedWord[] {
  const weights = written.map((word) => [...word.text].length + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const duration = Math.max(0, cue.end - cue.start);
  let at = cue.start;
  return written.map((word, i) => {
    const start = at;
    at += (duration * (weights[i] as number)) / total;
    return { ...word, start, end: at };
  });
}
