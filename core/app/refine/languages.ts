/**
 * What refine needs to know about a language: its subtitle limits (from Netflix's language-specific
 * Timed Text Style Guides; the sources are cited in docs/Task_System_Spec_v0.1.md §5.7), whether it
 * is written without spaces between words, and how its characters are counted.
 *
 * Languages are Whisper's codes ("de", "zh", "yue"); a regional tag ("pt-BR", "zh-Hant") counts as
 * its language. A language without a guide here gets the English limits.
 */

export interface LanguageLimits {
  max_chars_per_line: number;
  /** Reading speed, characters per second, for adults and for children's programmes. */
  max_cps: number;
  children_max_cps: number;
}

/** How a language is written: what a line's width and the joining of its words depend on. */
export interface Writing {
  /** Written without spaces between words (Chinese, Japanese, Thai…): words join with nothing between them. */
  unspaced: boolean;
  /** Unspaced, but a space goes between phrases (Thai, Lao, Khmer, Burmese): kept where the text had one. */
  phraseSpaced: boolean;
  /**
   * A half-width character (Latin letters, digits, ASCII punctuation, spaces, half-width kana) counts
   * as half a character, as Netflix counts them for Chinese, Japanese and Korean.
   */
  halfWidthCountsHalf: boolean;
}

const ENGLISH: LanguageLimits = { max_chars_per_line: 42, max_cps: 20, children_max_cps: 17 };
/** The European guides' shared figures: 42 characters a line, 17 characters a second (13 for children). */
const EUROPEAN: LanguageLimits = { max_chars_per_line: 42, max_cps: 17, children_max_cps: 13 };
const CHINESE: LanguageLimits = { max_chars_per_line: 16, max_cps: 9, children_max_cps: 7 };

const LIMITS: Record<string, LanguageLimits> = {
  en: ENGLISH,
  de: EUROPEAN,
  es: EUROPEAN,
  fr: EUROPEAN,
  it: EUROPEAN,
  pt: EUROPEAN,
  zh: CHINESE,
  yue: CHINESE,
  ja: { max_chars_per_line: 13, max_cps: 4, children_max_cps: 4 },
  ko: { max_chars_per_line: 16, max_cps: 12, children_max_cps: 9 },
  th: { max_chars_per_line: 35, max_cps: 17, children_max_cps: 13 },
};

/** Whisper's languages written without spaces between words (the worker keeps their words as Whisper split them). */
const UNSPACED = new Set(["zh", "yue", "ja", "th", "lo", "km", "my"]);
const PHRASE_SPACED = new Set(["th", "lo", "km", "my"]);
const HALF_WIDTH_COUNTED_HALF = new Set(["zh", "yue", "ja", "ko"]);

/** "pt-BR" → "pt", "ZH_Hant" → "zh"; null stays null. */
export function baseLanguage(language: string | null | undefined): string | null {
  if (!language) return null;
  return (language.split(/[-_]/)[0] as string).toLowerCase();
}

/** The limits for a language: its guide's, or the English ones when it has none here (or is unknown). */
export function languageLimits(language: string | null): LanguageLimits {
  return LIMITS[baseLanguage(language) ?? "en"] ?? ENGLISH;
}

export function writingOf(language: string | null): Writing {
  const base = baseLanguage(language) ?? "en";
  return { unspaced: UNSPACED.has(base), phraseSpaced: PHRASE_SPACED.has(base), halfWidthCountsHalf: HALF_WIDTH_COUNTED_HALF.has(base) };
}

const SCRIPT_LANGUAGES: [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, "ja"],
  [/\p{Script=Hangul}/u, "ko"],
  [/\p{Script=Thai}/u, "th"],
  [/\p{Script=Han}/u, "zh"],
];
/** Share of a text's letters in one script that makes the guess. */
const SCRIPT_SHARE = 0.3;
const KANA_SHARE = 0.1;

/**
 * For text whose language nobody gave (an SRT file alone): the language its script tells without
 * doubt: Japanese when a tenth of its letters are kana and a third kana or Han, else Korean, Thai or
 * Chinese when a third are Hangul, Thai or Han; null for anything else, which gets the English rules.
 */
export function languageOfScript(text: string): string | null {
  let letters = 0;
  const counts = new Map<string, number>();
  for (const character of text) {
    if (!/\p{L}/u.test(character)) continue;
    letters++;
    const match = SCRIPT_LANGUAGES.find(([script]) => script.test(character));
    if (match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  if (letters === 0) return null;
  // Japanese mixes kana with Han characters; Chinese has no kana.
  if ((counts.get("ja") ?? 0) >= KANA_SHARE * letters && (counts.get("ja") ?? 0) + (counts.get("zh") ?? 0) >= SCRIPT_SHARE * letters) return "ja";
  for (const [, language] of SCRIPT_LANGUAGES) if ((counts.get(language) ?? 0) >= SCRIPT_SHARE * letters) return language;
  return null;
}
