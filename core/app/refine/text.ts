/**
 * What the refine rules need to know about a word's text: where sentences and clauses end, and
 * the normalised tokens used to compare what the engine heard with a script.
 */
import type { Writing } from "./languages.js";
import { spellNumber, spellSymbol } from "./numbers.js";

/** Closing quotes and brackets that may follow the punctuation that ends a sentence or clause. */
const CLOSERS = `"'”’)\\]»」』）】》〉〕`;
/** Sentence ends, with the full-width forms of Chinese and Japanese, the Arabic question mark and the Devanagari danda. */
const SENTENCE_END = new RegExp(`[.!?‽。！？．؟।॥][${CLOSERS}]*$`);
/** Clause punctuation, with the CJK comma, enumeration comma, semicolon and colon, and the Arabic comma and semicolon. */
const CLAUSE_END = new RegExp(`(?:[,;:–—，、；：،؛]|\\.\\.\\.|…|⋯)[${CLOSERS}]*$`);
/** Abbreviations whose full stop does not end a sentence (English, and the titles of the European guides). */
const ABBREVIATIONS = new Set([
  ...["mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.", "no.", "approx.", "dept.", "fig.", "inc.", "ltd.", "co."],
  ...["sra.", "srta.", "dra.", "hr.", "fr.", "nr.", "z.b.", "bzw.", "sig.", "dott.", "profa."],
]);

export function endsSentence(text: string): boolean {
  if (!SENTENCE_END.test(text) || /(?:\.\.\.|…)[^.!?]*$/.test(text)) return false;
  return !ABBREVIATIONS.has(text.toLowerCase().replace(new RegExp(`[${CLOSERS}]+$`), ""));
}

export function endsClause(text: string): boolean {
  return CLAUSE_END.test(text);
}

/** Letters and digits of scripts written without spaces: no space goes next to them when words are joined. */
const UNSPACED_SCRIPT = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]/u;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/**
 * What goes between two words on a line: a space, except in a language written without spaces,
 * where words join directly and a space goes only between two words of a spaced script
 * ("iPhone 13" inside Chinese text) or where the text had one (`spaceBefore`: between Thai phrases).
 */
export function separator(before: string, after: string, writing: Writing, spaceBefore = false): string {
  if (!writing.unspaced || spaceBefore) return " ";
  const last = [...before].at(-1) ?? "";
  const first = [...after][0] ?? "";
  return isSpacedWordCharacter(last) && isSpacedWordCharacter(first) ? " " : "";
}

function isSpacedWordCharacter(character: string): boolean {
  return WORD_CHARACTER.test(character) && !UNSPACED_SCRIPT.test(character);
}

/**
 * A line's width in characters as the style guides count them: every character, spaces and
 * punctuation included, and for Chinese, Japanese and Korean a half-width one (Latin letters,
 * digits, ASCII punctuation, spaces, half-width kana) as half. A character is what a reader sees
 * as one (a grapheme cluster): a Thai consonant with its vowel and tone marks, an accented letter
 * written as two code points, an emoji sequence.
 */
export function textWidth(text: string, writing: Writing): number {
  // ASCII is one code point per character: the common case needs no segmenter.
  const characters = /^[\x20-\x7e]*$/.test(text) ? text : Array.from(GRAPHEMES.segment(text), (cluster) => cluster.segment);
  let width = 0;
  for (const character of characters) width += writing.halfWidthCountsHalf && isHalfWidth(character.codePointAt(0) as number) ? 0.5 : 1;
  return width;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function isHalfWidth(codePoint: number): boolean {
  return (codePoint >= 0x20 && codePoint <= 0x7e) || (codePoint >= 0xff61 && codePoint <= 0xffdc) || (codePoint >= 0xffe8 && codePoint <= 0xffee);
}

/** True for a token with no letter or digit in it ("—", "-", "♪"). */
export function isPunctuationOnly(text: string): boolean {
  return !/[\p{L}\p{N}]/u.test(text);
}

/**
 * The tokens a word is compared by: lower case, punctuation and accents' variants folded, numbers
 * and symbols spelt out, hyphenated words split. "Twenty-one," → [twenty, one]; "12%" → [twelve, percent].
 */
export function matchTokens(text: string): string[] {
  const folded = text.normalize("NFKC").toLowerCase().replace(/[’‘`´]/g, "'");
  const tokens: string[] = [];
  for (const part of folded.split(/[\s\-–—/]+/)) {
    const symbol = spellSymbol(part);
    if (symbol) {
      tokens.push(symbol);
      continue;
    }
    const core = part.replace(/^[^\p{L}\p{N}$€£]+|[^\p{L}\p{N}%]+$/gu, "");
    if (core === "") continue;
    const spelled = /\d/.test(core) ? spellNumber(core) : null;
    if (spelled) tokens.push(...spelled);
    else {
      const plain = core.replace(/[^\p{L}\p{N}']+/gu, "");
      if (plain !== "") tokens.push(...byCharacterWhereUnspaced(plain));
    }
  }
  return tokens;
}

/**
 * A script written without spaces is compared character by character: the engine and the script's
 * dictionary cut "人工智能" into words differently ("人" | "工智能" against "人工" | "智能"), and only
 * the characters are the same on both sides. A spaced run inside stays one token ("iPhone").
 */
function byCharacterWhereUnspaced(token: string): string[] {
  if (!UNSPACED_SCRIPT.test(token)) return [token];
  return Array.from(GRAPHEMES.segment(token), (cluster) => cluster.segment).reduce<string[]>((parts, character) => {
    const last = parts.at(-1);
    if (last !== undefined && isSpacedWordCharacter(character) && isSpacedWordCharacter([...last].at(-1) ?? "")) parts[parts.length - 1] = last + character;
    else parts.push(character);
    return parts;
  }, []);
}

/** The word with its first letter in upper case ("¿qué" → "¿Qué", "'tis" → "'Tis"). */
export function capitalizeFirst(text: string): string {
  return text.replace(/\p{L}/u, (letter) => letter.toUpperCase());
}
