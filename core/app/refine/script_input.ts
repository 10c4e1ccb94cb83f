/**
 * The text of a script as the user gave it, made ready for alignment: a script must have words,
 * and an SRT given as a script is read as the script of its cue texts, never with its cue numbers
 * and timings as words (they leaked into the subtitles).
 */
import { SophiaError } from "../errors.js";
import { SRT_TIMING, parseSrt } from "../subtitles/srt.js";

/** A letter or a digit in any script: what a word needs. */
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/** `what` names the script in messages, e.g. `input.script "talk.txt"`. */
export function scriptText(text: string, what: string): string {
  const words = SRT_TIMING.test(text) ? parseSrt(text, what).map((cue) => cue.lines.join(" ")).join("\n") : text;
  if (!WORD_CHARACTER.test(words)) {
    throw new SophiaError("script_invalid", `${what} has no words (only spaces or punctuation): give the text of what is said in the recording, or no script`, { details: { script: what } });
  }
  return words;
}
