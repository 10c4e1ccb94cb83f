/**
 * How good a place the gap after each word is to end a line or a cue, from punctuation and from
 * the words themselves. English words get parts of speech from `compromise`, a small English
 * tagger: it tells an adjective before its noun ("the lazy | dog") and a name ("New | York") apart
 * from the places a reader expects a break ("…the report, | and then…"). Other languages use their
 * function words (function_words.ts); in a language written without spaces, a gap inside a word
 * (Whisper's tokens can split one) is never a break.
 */
import { createRequire } from "node:module";
import { functionWordsOf, type FunctionWords } from "./function_words.js";
import { baseLanguage, writingOf } from "./languages.js";
import { endsClause, endsSentence, isPunctuationOnly, separator } from "./text.js";

/**
 * Best to worst: after a sentence; after clause punctuation; before a conjunction or preposition;
 * anywhere else; after a preposition, conjunction, auxiliary or subject pronoun ("avoid"); after an
 * article, a possessive, an adjective before its noun, a number before its unit, inside a name ("never").
 */
export type BreakClass = "sentence" | "clause" | "before_function" | "plain" | "avoid" | "never";

interface WordTags {
  first: ReadonlySet<string>;
  last: ReadonlySet<string>;
}

const NO_TAGS: WordTags = { first: new Set(), last: new Set() };
const NAME_TAGS = ["ProperNoun", "Person", "Place", "Organization"];
type Tagger = typeof import("compromise").default;
let loadedTagger: Tagger | null = null;

/** Loaded on first use: 1.4 MB of JavaScript that every other sophia-cli command would pay for at start-up. */
function tagger(): Tagger {
  return (loadedTagger ??= createRequire(import.meta.url)("compromise") as Tagger);
}

/** Longest run of words tagged in one go; long enough for the context a tagger uses, short enough to stay linear. */
const TAG_CHUNK_WORDS = 40;

/**
 * The class of the gap after each word but the last: `result[i]` is the gap between words i and i+1.
 * `language` is the engine's language code; null (unknown, e.g. words read from an SRT) is taken as English.
 */
export function classifyBreaks(words: readonly string[], language: string | null = null, spaceBefore: readonly boolean[] = []): BreakClass[] {
  const base = baseLanguage(language) ?? "en";
  const classes: BreakClass[] = [];
  if (base === "en") {
    const tags = tagWords(words);
    for (let i = 0; i + 1 < words.length; i++) {
      classes.push(punctuationClass(words[i] as string, words[i + 1] as string) ?? classifyEnglish(words[i] as string, words[i + 1] as string, tags[i] ?? NO_TAGS, tags[i + 1] ?? NO_TAGS));
    }
    return classes;
  }
  const functionWords = functionWordsOf(base);
  const insideWord = writingOf(base).unspaced ? gapsInsideWords(words, base, spaceBefore) : null;
  for (let i = 0; i + 1 < words.length; i++) {
    const word = words[i] as string;
    const next = words[i + 1] as string;
    // Thai and its neighbours put a space where other languages put a comma or a full stop.
    const phraseEnd = spaceBefore[i + 1] === true && !isPunctuationOnly(next);
    classes.push(punctuationClass(word, next) ?? (phraseEnd ? "clause" : insideWord?.[i] ? "never" : classifyByFunctionWords(word, next, functionWords)));
  }
  return classes;
}

/** The class punctuation alone decides, in any language; null when it decides nothing. */
function punctuationClass(word: string, next: string): BreakClass | null {
  if (endsSentence(word)) return "sentence";
  if (endsClause(word)) return "clause";
  // A dash or symbol standing alone belongs with the word before it; so does a closing mark or a
  // small kana or prolonged-sound mark, which may not start a line in Japanese.
  if (isPunctuationOnly(next) || NO_LINE_START.test(next)) return "never";
  return null;
}

const NO_LINE_START = /^[\p{Pe}\p{Pf}ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶーゝゞヽヾ々]/u;

function classifyByFunctionWords(word: string, next: string, functionWords: FunctionWords): BreakClass {
  const after = keysOf(word);
  const before = keysOf(next);
  const has = (set: ReadonlySet<string>, keys: readonly string[]) => keys.some((key) => set.has(key));
  if (has(functionWords.bindNext, after) || has(functionWords.bindPrevious, before)) return "never";
  // A suspended compound stays with the word it shares its end with ("Leibs- | und Lebensgefahr").
  if (/\p{L}-$/u.test(word) && has(functionWords.openClause, before)) return "never";
  // A number and the noun or unit it counts ("20 Jahre", "3 km").
  if (/^\d[\d.,]*$/.test(after[0] ?? "") && /^\p{L}/u.test(before[0] ?? "")) return "never";
  if (has(functionWords.prepositions, after) || has(functionWords.leanNext, after) || has(functionWords.openClause, after)) return "avoid";
  // German capitalises nouns, so an inflected lower-case word before one is most likely its adjective ("vielfältiger | Gefahr").
  if (functionWords.capitalisesNouns && /^\p{Ll}{2,}(?:e|en|er|es|em)$/u.test(word) && isCapitalised(next)) return "avoid";
  if (has(functionWords.openClause, before) || has(functionWords.prepositions, before)) return "before_function";
  if (!functionWords.capitalisesNouns && isCapitalised(word) && isCapitalised(next)) return "avoid"; // likely a name
  return "plain";
}

/** A word as the function-word lists hold it, lower case without surrounding punctuation, and its elided head ("qu'il" → "qu'"). */
function keysOf(word: string): string[] {
  const key = word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
  const elided = /^(\p{L}+)['’]\p{L}/u.exec(key);
  return elided ? [key, `${elided[1] as string}'`] : [key];
}

function isCapitalised(word: string): boolean {
  return /^\p{Lu}/u.test(word.replace(/^[^\p{L}]+/u, ""));
}

/**
 * For a language written without spaces: whether each gap falls inside a word by the Unicode
 * word-break rules with ICU's dictionaries, where Whisper's tokens split a word ("人" | "工智能").
 */
function gapsInsideWords(words: readonly string[], language: string, spaceBefore: readonly boolean[]): boolean[] {
  const writing = writingOf(language);
  let joined = "";
  const ends: number[] = [];
  words.forEach((word, i) => {
    joined += (i > 0 ? separator(words[i - 1] as string, word, writing, spaceBefore[i] === true) : "") + word;
    ends.push(joined.length);
  });
  const boundaries = new Set<number>();
  for (const { index } of new Intl.Segmenter(language, { granularity: "word" }).segment(joined)) boundaries.add(index);
  return ends.slice(0, -1).map((end) => !boundaries.has(end));
}

function classifyEnglish(word: string, next: string, tags: WordTags, nextTags: WordTags): BreakClass {
  const after = tags.last;
  const before = nextTags.first;
  const has = (set: ReadonlySet<string>, ...names: string[]) => names.some((name) => set.has(name));
  if (has(after, "Determiner", "Possessive") && !has(after, "Pronoun", "Noun")) return "never";
  if (has(after, "Possessive") && has(before, "Noun", "Adjective")) return "never";
  if (has(after, "Adjective") && has(before, "Noun", "Adjective") && !has(before, "Pronoun")) return "never";
  if (has(after, "Value") && has(before, "Unit", "Noun") && !has(before, "Pronoun")) return "never";
  if (isNamePart(word, after) && isNamePart(next, before)) return "never";
  if (has(after, "Preposition", "Conjunction")) return "avoid";
  if (has(after, "Auxiliary", "Modal", "Copula") && has(before, "Verb", "Negative", "Adverb")) return "avoid";
  if (has(after, "Pronoun") && !has(after, "Possessive") && has(before, "Verb")) return "avoid";
  if (has(before, "Conjunction", "Preposition", "QuestionWord")) return "before_function";
  return "plain";
}

function isNamePart(word: string, tags: ReadonlySet<string>): boolean {
  return NAME_TAGS.some((name) => tags.has(name)) && /^\p{Lu}/u.test(word.replace(/^[^\p{L}]+/u, ""));
}

/**
 * Tags of each word's first and last term. compromise slows down more than linearly with sentence
 * length, and an unpunctuated transcript is one endless sentence, so words are tagged in pieces:
 * a sentence at a time, and at most TAG_CHUNK_WORDS words.
 */
function tagWords(words: readonly string[]): WordTags[] {
  const tags: WordTags[] = [];
  let chunkStart = 0;
  for (let i = 0; i < words.length; i++) {
    if (i + 1 === words.length || i + 1 - chunkStart >= TAG_CHUNK_WORDS || endsSentence(words[i] as string)) {
      tags.push(...tagChunk(words.slice(chunkStart, i + 1)));
      chunkStart = i + 1;
    }
  }
  return tags;
}

/** Tags by character offset in the words joined with spaces. */
function tagChunk(words: readonly string[]): WordTags[] {
  const starts: number[] = [];
  let offset = 0;
  for (const word of words) {
    starts.push(offset);
    offset += word.length + 1;
  }
  const result: { first: Set<string> | null; last: Set<string> }[] = words.map(() => ({ first: null, last: new Set() }));
  let sentences: { terms: { tags?: string[]; offset?: { start: number; length: number } }[] }[];
  try {
    sentences = tagger()(words.join(" ")).json({ offset: true }) as typeof sentences;
  } catch {
    return words.map(() => NO_TAGS); // the tagger only refines break costs; punctuation still works without it
  }
  let wordIndex = 0;
  for (const sentence of sentences) {
    for (const term of sentence.terms) {
      if (!term.offset || term.offset.length === 0) continue; // the "not" that compromise infers in "can't"
      while (wordIndex + 1 < words.length && (starts[wordIndex + 1] as number) <= term.offset.start) wordIndex++;
      const slot = result[wordIndex];
      if (!slot) continue;
      const termTags = new Set(term.tags ?? []);
      slot.first ??= termTags;
      slot.last = termTags;
    }
  }
  return result.map((slot) => ({ first: slot.first ?? new Set(), last: slot.last }));
}
