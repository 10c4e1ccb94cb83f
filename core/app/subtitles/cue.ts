/**
 * A subtitle cue, as every format holds it, and the clock every format writes its times with.
 *
 * Times are seconds from the start of the media; files hold whole milliseconds (SRT, VTT, TSV,
 * JSON) or centiseconds (ASS), so formatting rounds to them.
 */
import type { TimedWord } from "../transcript.js";

export interface Cue {
  start: number;
  end: number;
  /** The text as shown, top line first; never empty strings. */
  lines: string[];
  /**
   * The cue's words in order with the times they are spoken (within or near [start, end]), when
   * known: refine keeps them for the JSON format and ASS karaoke; a file read back may lack them.
   */
  words?: TimedWord[];
}

/** `h:mm:ss<separator>fff`: hours at least `hourDigits` wide, the fraction in `fractionDigits` (3 = ms, 2 = cs). */
export function formatClock(seconds: number, separator: "," | ".", hourDigits: 1 | 2, fractionDigits: 2 | 3): string {
  const unit = 10 ** (3 - fractionDigits);
  // Whole milliseconds first, so 1.005 s is 1005 ms and rounds up to 1.01 s, not down through 1004.999…
  const total = Math.round(Math.round(Math.max(0, seconds) * 1000) / unit);
  const perSecond = 1000 / unit;
  const fraction = total % perSecond;
  const wholeSeconds = Math.floor(total / perSecond);
  const s = wholeSeconds % 60;
  const m = Math.floor(wholeSeconds / 60) % 60;
  const h = Math.floor(wholeSeconds / 3600);
  return `${pad(h, hourDigits)}:${pad(m, 2)}:${pad(s, 2)}${separator}${pad(fraction, fractionDigits)}`;
}

/**
 * A cue's text on one line, for formats that hold one line per cue (TXT, TSV): its lines joined by
 * a space, except between two characters of a script written without spaces (Chinese, Japanese,
 * Thai), where a space would be one the speaker never made.
 */
export function oneLine(cue: Cue): string {
  return cue.lines.reduce((text, line) => (text === "" ? line : `${text}${UNSPACED.test(text.at(-1) ?? "") && UNSPACED.test(line[0] ?? "") ? "" : " "}${line}`), "");
}

const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\u3000-\u303F\uFF00-\uFFEF]/u;

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}
