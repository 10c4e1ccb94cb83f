/**
 * Cleaning what the engine heard before it becomes subtitles: Whisper's known failure modes on
 * long recordings, plus tidy text.
 *
 *  - Filler heard in silence: a segment that is only a stock phrase of its language ("Thank you.",
 *    "Vielen Dank fürs Zuschauen!", "谢谢观看") and that Whisper itself doubted (no-speech probability ≥ 0.5, mean log-probability
 *    below -1, or mean word probability below 0.5); sound tags such as "[Music]" or "♪".
 *  - Repeated-phrase loops: a phrase of 2–10 words said 3 or more times in a row, or one word 4 or
 *    more times, keeps its first occurrence ("no, no, no" stays).
 *  - Whitespace inside words; word times made monotonic (a word never starts before the one before it).
 *  - Sentence-initial capitals and a lone "i" (only without a script: a script's casing is the truth).
 */
import type { TimedWord, TranscriptSegment } from "../transcript.js";
import type { RefineRules } from "./rules.js";
import { capitalizeFirst, endsSentence, matchTokens } from "./text.js";

/** Input to refine: segments with word timings (from asr's transcript, or from a raw SRT's cues). */
export type TimedSegment = Pick<TranscriptSegment, "words" | "no_speech_prob" | "avg_logprob">;

export interface CleaningReport {
  filler_words_removed: number;
  loop_words_removed: number;
}

/**
 * Stock phrases Whisper writes over silence or music, per language: the endings of the videos it
 * learnt from and their subtitle credits. A year after a credit ("… des ZDF, 2020") is ignored.
 */
const FILLER_PHRASES: Record<string, readonly string[]> = {
  en: [
    ...["you", "thank you", "thank you very much", "thank you so much", "thanks", "thanks for watching", "thank you for watching"],
    ...["thanks for listening", "thank you for listening", "please subscribe", "like and subscribe", "bye", "bye bye", "okay", "so"],
    ...["hmm", "uh", "um", "oh", "the end", "i'm sorry", "subtitles by the amara.org community"],
  ],
  de: [
    ...["danke", "danke schön", "vielen dank", "vielen dank fürs zuschauen", "danke fürs zuschauen", "tschüss", "bis zum nächsten mal"],
    ...["untertitel der amara.org-community", "untertitel im auftrag des zdf", "untertitelung im auftrag des zdf", "untertitel im auftrag des zdf für funk"],
  ],
  es: ["gracias", "muchas gracias", "gracias por ver", "gracias por ver el video", "suscríbete", "adiós", "subtítulos realizados por la comunidad de amara.org", "subtítulos por la comunidad de amara.org"],
  fr: ["merci", "merci beaucoup", "merci d'avoir regardé", "au revoir", "sous-titres réalisés par la communauté d'amara.org", "sous-titrage st' 501"],
  it: ["grazie", "grazie a tutti", "grazie per la visione", "sottotitoli creati dalla comunità amara.org", "sottotitoli e revisione a cura di qtss"],
  pt: ["obrigado", "obrigada", "obrigado por assistir", "legendas pela comunidade amara.org"],
  zh: ["谢谢", "谢谢观看", "感谢观看", "谢谢大家", "字幕由amara.org社区提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"],
  ja: ["ありがとうございました", "ご視聴ありがとうございました", "おやすみなさい"],
  ko: ["감사합니다", "시청해주셔서 감사합니다", "구독과 좋아요 부탁드립니다"],
};
FILLER_PHRASES.yue = FILLER_PHRASES.zh as readonly string[];

/** A phrase as filler is compared: its match tokens run together, so a language's word splits do not matter. */
function fillerKey(texts: readonly string[]): string {
  return texts.filter((text) => !/\d/.test(text)).flatMap((text) => matchTokens(text)).join("");
}

const FILLER_KEYS: Record<string, ReadonlySet<string>> = Object.fromEntries(
  Object.entries(FILLER_PHRASES).map(([language, phrases]) => [language, new Set(phrases.map((phrase) => fillerKey(phrase.split(" "))))]),
);
const NO_SPEECH_DOUBT = 0.5;
const LOGPROB_DOUBT = -1;
const WORD_PROBABILITY_DOUBT = 0.5;
const MAX_LOOP_PHRASE = 10;
const SOUND_TAG_MAX_WORDS = 6;

/** A segment's first word may last this many times what its length takes before its start is moved (withOpeningTightened). */
const OPENING_STRETCH = 1.5;
const OPENING_FALLBACK_PACE = 15;

/**
 * `onsetsFromAudio`: the words' starts were already put where speech starts, from the audio (asr's
 * `early_start` repair, spec §4.1), so a segment's opening word is not re-timed by the pace guess;
 * that guess is for words from elsewhere (a raw SRT).
 */
export function cleanTranscript(
  segments: readonly TimedSegment[],
  rules: Pick<RefineRules, "remove_filler" | "collapse_loops" | "language">,
  onsetsFromAudio = false,
): { words: TimedWord[]; report: CleaningReport } {
  const report: CleaningReport = { filler_words_removed: 0, loop_words_removed: 0 };
  const fillers = FILLER_KEYS[rules.language ?? "en"] ?? new Set<string>();
  let words: TimedWord[] = [];
  const charsPerSec = medianPace(segments);
  for (const segment of segments) {
    const tidy = segment.words.flatMap(tidyWord);
    // A segment of punctuation alone is what Whisper writes for noise: it would be a cue of just ".".
    if (!tidy.some((word) => WORD_CHARACTER.test(word.text))) {
      report.filler_words_removed += tidy.length;
      continue;
    }
    const segmentWords = onsetsFromAudio ? tidy : withOpeningTightened(tidy, charsPerSec);
    if (rules.remove_filler && isDoubtedFiller(segment, segmentWords, fillers)) report.filler_words_removed += segmentWords.length;
    else words.push(...segmentWords);
  }
  if (rules.remove_filler) {
    const kept = withoutSoundTags(words);
    report.filler_words_removed += words.length - kept.length;
    words = kept;
  }
  if (rules.collapse_loops) {
    const kept = withoutLoops(words);
    report.loop_words_removed = words.length - kept.length;
    words = kept;
  }
  return { words: monotonic(words), report };
}

/**
 * Sentence-initial capitals, and in English "I" for a lone "i" ("i'm" → "I'm"); elsewhere a lone
 * "i" is another word (the Italian article). `language` null is taken as English.
 */
export function capitalizeSentences(words: readonly TimedWord[], language: string | null = null): TimedWord[] {
  const english = language === null || language === "en";
  let sentenceStart = true;
  return words.map((word) => {
    let text = word.text;
    if (sentenceStart || (english && /^i(?:'[a-z]+)?\W*$/.test(text))) text = capitalizeFirst(text);
    if (/\p{L}|\p{N}/u.test(text)) sentenceStart = endsSentence(text);
    return text === word.text ? word : { ...word, text };
  });
}

/** Median characters per second of the words heard (a word with the space after it). */
function medianPace(segments: readonly TimedSegment[]): number {
  const paces = segments
    .flatMap((segment) => segment.words)
    .filter((word) => word.end > word.start)
    .map((word) => (word.text.length + 1) / (word.end - word.start))
    .sort((a, b) => a - b);
  return paces.length > 0 ? (paces[paces.length >> 1] as number) : OPENING_FALLBACK_PACE;
}

/**
 * Whisper starts a segment's first word at the segment's start, often in the silence before the
 * word (its alignment path begins there): a first word lasting more than OPENING_STRETCH times what
 * its length takes at the speaker's median pace starts that long before its end instead, so a cue
 * does not appear up to a second before anyone speaks.
 */
function withOpeningTightened(words: TimedWord[], charsPerSec: number): TimedWord[] {
  const first = words[0];
  if (!first) return words;
  const natural = (first.text.length + 1) / charsPerSec;
  if (first.end - first.start <= OPENING_STRETCH * natural) return words;
  return [{ ...first, start: first.end - OPENING_STRETCH * natural }, ...words.slice(1)];
}

/**
 * Zero-width spaces and byte-order marks go; a zero-width non-joiner or joiner (U+200C, U+200D) stays
 * inside a word, where it is spelling (Persian "می‌خواهم", emoji sequences), and goes only at its edges.
 */
function tidyWord(word: TimedWord): TimedWord[] {
  const text = word.text
    .replace(/[\u200B\uFEFF]/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[\u200C\u200D]+|[\u200C\u200D]+$/g, "");
  return text === "" ? [] : [{ ...word, text }];
}

/** A letter or a digit in any script: a segment without one (".", "...", "-") is noise, not speech. */
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

function isDoubtedFiller(segment: TimedSegment, words: readonly TimedWord[], fillers: ReadonlySet<string>): boolean {
  if (words.length === 0) return false;
  if (!fillers.has(fillerKey(words.map((word) => word.text)))) return false;
  const probabilities = words.flatMap((word) => (word.probability === undefined ? [] : [word.probability]));
  const meanProbability = probabilities.length > 0 ? probabilities.reduce((a, b) => a + b, 0) / probabilities.length : undefined;
  return (
    (segment.no_speech_prob ?? 0) >= NO_SPEECH_DOUBT ||
    (segment.avg_logprob ?? 0) < LOGPROB_DOUBT ||
    (meanProbability !== undefined && meanProbability < WORD_PROBABILITY_DOUBT)
  );
}

/** "[Music]", "(upbeat music)", "♪ la la ♪": descriptions of sound, not speech. */
function withoutSoundTags(words: readonly TimedWord[]): TimedWord[] {
  const kept: TimedWord[] = [];
  for (let i = 0; i < words.length; i++) {
    const opener = (words[i] as TimedWord).text;
    if (/^[♪♫]+$/.test(opener)) continue;
    const close = { "[": "]", "(": ")", "♪": "♪" }[opener[0] ?? ""];
    if (close) {
      const end = words.slice(i, i + SOUND_TAG_MAX_WORDS).findIndex((word, k) => (k > 0 || word.text.length > 1) && word.text.replace(/[.,!?]+$/, "").endsWith(close));
      if (end >= 0) {
        i += end;
        continue;
      }
    }
    kept.push(words[i] as TimedWord);
  }
  return kept;
}

function withoutLoops(words: readonly TimedWord[]): TimedWord[] {
  const keys = words.map((word) => matchTokens(word.text).join(" "));
  const samePhrase = (a: number, b: number, length: number) => {
    for (let k = 0; k < length; k++) if (keys[a + k] !== keys[b + k]) return false;
    return true;
  };
  const kept: TimedWord[] = [];
  let i = 0;
  while (i < words.length) {
    const loop = loopAt(i);
    kept.push(...words.slice(i, i + loop.length));
    i += loop.length * loop.repeats;
  }
  return kept;

  /** The phrase starting at word i and how often it repeats in a row; a loop only when it repeats enough. */
  function loopAt(i: number): { length: number; repeats: number } {
    for (let length = 1; length <= MAX_LOOP_PHRASE && i + 2 * length <= words.length && keys[i] !== ""; length++) {
      let repeats = 1;
      while (i + (repeats + 1) * length <= words.length && samePhrase(i, i + repeats * length, length)) repeats++;
      if (repeats >= (length === 1 ? 4 : 3)) return { length, repeats };
    }
    return { length: 1, repeats: 1 };
  }
}

/** Word times as refine needs them: each word starts no earlier than the one before it, and ends no earlier than it starts. */
function monotonic(words: readonly TimedWord[]): TimedWord[] {
  let floor = 0;
  return words.map((word) => {
    const start = Math.max(word.start, floor);
    const end = Math.max(word.end, start);
    floor = start;
    return start === word.start && end === word.end ? word : { ...word, start, end };
  });
}
