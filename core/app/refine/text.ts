/**
 * What the refine rules need to know about a word's text: where sentences and clauses end, and
 * the normalised tokens used to compare what the engine heard with a script.
 */
import { spellNumber, spellSymbol } from "./numbers.js";

/** Closing quotes and brackets that may follow the punctuation that ends a sentence or clause. */
const CLOSERS = `"'”’)\\]»`;
const SENTENCE_END = new RegExp(`[.!?‽。！？][${CLOSERS}]*$`);
const CLAUSE_END = new RegExp(`(?:[,;:–—]|\\.\\.\\.|…)[${CLOSERS}]*$`);
/** Abbreviations whose full stop does not end a sentence. */
const ABBREVIATIONS = new Set(["mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.", "no.", "approx.", "dept.", "fig.", "inc.", "ltd.", "co."]);

export function endsSentence(text: string): boolean {
  if (!SENTENCE_END.test(text) || /(?:\.\.\.|…)[^.!?]*$/.test(text)) return false;
  return !ABBREVIATIONS.has(text.toLowerCase().replace(new RegExp(`[${CLOSERS}]+$`), ""));
}

export function endsClause(text: string): boolean {
  return CLAUSE_END.test(text);
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
      if (plain !== "") tokens.push(plain);
    }
  }
  return tokens;
}

/** The word with its first letter in upper case ("¿qué" → "¿Qué", "'tis" → "'Tis"). */
export function capitalizeFirst(text: string): string {
  return text.replace(/\p{L}/u, (letter) => letter.toUpperCase());
}
