/**
 * Script alignment: the script's words in place of what the engine heard, timed by the speech.
 *
 * Two pure steps with the engine between them (spec §5.5):
 *  1. `planScript` matches the script's tokens with the heard tokens (token_alignment.ts) and decides,
 *     passage by passage, what the subtitles say: script words where the script was spoken (a
 *     passage heard again, or out of the script's order, takes the script's words too), the heard
 *     words where the speech is not in the script, nothing for script passages never spoken. Matched
 *     words keep the heard times; the rest are left as gaps, each with the stretch of media between
 *     its timed neighbours.
 *  2. The refine stage asks the engine to align each gap's words on that stretch of audio.
 *  3. `timeScript` takes those times, or, where there are none (no media, a gap the engine could not
 *     place), shares the stretch out in proportion to the words' length: interpolation is the last
 *     resort, and never leaves the stretch between the neighbours or the media.
 */
import { SophiaError } from "../errors.js";
import type { TimedWord } from "../transcript.js";
import { wordSplitter, type WrittenWord } from "./cue_words.js";
import { matchTokens } from "./text.js";
import { jumpAlign, type Chain } from "./token_alignment.js";

export interface AlignmentReport {
  script_words: number;
  heard_words: number;
  /** Script tokens (normalised words) matched exactly with a heard token, over all script tokens. */
  match_ratio: number;
  /** Script words the engine missed or misheard, timed by forced alignment on the audio. */
  aligned_words: number;
  /** Script words the engine misheard, timed where it heard the words it wrote in their place. */
  heard_timed_words: number;
  /** Script words timed by interpolation between their neighbours (no audio alignment for them). */
  interpolated_words: number;
  /** Script words never spoken (a passage cut in the edit): not in the subtitles. */
  script_words_not_spoken: number;
  /** Each unspoken script passage: its first words, and how many words it has. */
  script_not_spoken: { text: string; words: number }[];
  /** Heard words in no part of the script, subtitled as heard. */
  speech_not_in_script_words: number;
  /** Seconds of speech, first word start to last word end per passage, that is not in the script. */
  speech_not_in_script_sec: number;
  /** Each passage of speech not in the script: when, and what was heard. */
  speech_not_in_script: { start: number; end: number; text: string }[];
  /** Passages heard again after their first time (a chorus, a paragraph read twice), subtitled with the script's words. */
  repeated_passages: number;
  /** Script passages spoken elsewhere than the script's order puts them, subtitled where spoken. */
  reordered_passages: number;
  /** Filled in by refine once cues exist: how far cue boundaries sit from the heard words' times. */
  mean_boundary_shift_sec: number;
}

/** A stretch of media and the untimed words (indices into ScriptPlan.words) to place in it. */
export interface ScriptGap {
  first: number;
  last: number;
  start: number;
  end: number;
  /**
   * Where the engine heard other words in their place (the gap's words misheard), when those span
   * about the time the gap's words take at the speaker's pace: the gap is timed there, as matched
   * words are timed by what was heard, and needs no alignment on the audio. Null otherwise.
   */
  heard: { start: number; end: number } | null;
}

export interface ScriptPlan {
  /** Every word to subtitle, in spoken order; a word of a gap has no time yet (start = end = NaN). */
  words: TimedWord[];
  gaps: ScriptGap[];
  /** Characters per second of the matched speech: the pace interpolation assumes. */
  charsPerSec: number;
  report: AlignmentReport;
}

/** Times the engine found for a gap's words, in order; null where it found none. */
export type GapTimes = readonly { start: number; end: number }[] | null;

export interface PlanOptions {
  /** Below this share of the script's tokens heard, the script is refused (script_mismatch). */
  minMatch: number;
  /** Length of the media in seconds; null when unknown (a raw SRT refined on its own). */
  durationSec: number | null;
  /** The script's language: one written without spaces is cut into words by dictionary, not at spaces. */
  language: string | null;
  /** Called as the heard tokens are matched with the script's, every few thousand of them: the long step at hours of speech. */
  onMatching?: (done: number, total: number) => void;
}

/** A passage of the script or of the speech shorter than this many tokens is never taken for a passage of its own. */
const MIN_PASSAGE_TOKENS = 3;
/** Script and heard runs both this long, between the same matches, with nothing in common: different passages. */
const REPLACED_TOKENS = 6;
/** A script passage with less than this share of the time its length needs at the speaker's pace was not spoken. */
const SPOKEN_TIME_SHARE = 0.3;
/** A chain of the search with fewer matches than this, among others, is chance: it is no passage. */
const PASSAGE_MIN_MATCHES = 5;
/** Speaking rate assumed when nothing was matched to measure it, and the range a measured one is kept in. */
const FALLBACK_CHARS_PER_SEC = 15;
const CHARS_PER_SEC_RANGE = [5, 30] as const;
/** Interpolated words last at most this many times what their length needs at the speaker's pace. */
const MAX_STRETCH = 2;
const EXCERPT_WORDS = 8;
/**
 * Misheard words time a gap when they last between these multiples of what the gap's words take at
 * the speaker's pace: the engine heard about as much speech there. Outside, the gap goes to the
 * engine's alignment (a word heard for a whole phrase, or heard words that run over a pause).
 */
const HEARD_SPAN = [0.5, 2] as const;
/** Heard and plan times are both rounded to the millisecond. */
const TIME_EPSILON = 0.0005;

interface Token {
  text: string;
  start: number;
  end: number;
  /** The word (script or heard) the token belongs to. */
  word: number;
}

/** One pass of the script over the speech: pairs [heard token, script token], increasing in both. */
interface Passage {
  pairs: [number, number][];
  /** The script tokens this pass subtitles, matched or not: [scriptLo, scriptHi) but those in `skip`. */
  scriptLo: number;
  scriptHi: number;
  skip: Uint8Array | null;
}

export function planScript(heard: readonly TimedWord[], script: string, options: PlanOptions): ScriptPlan {
  const written = wordSplitter(options.language)(script);
  const texts = written.map((word) => word.text);
  if (texts.length === 0) throw new SophiaError("script_mismatch", "input.script has no words: give the text of what is said, or no script");
  const heardTokens = tokenize(heard.map((word) => word.text), (i) => heard[i] as TimedWord);
  const scriptTokens = tokenize(texts, () => ({ start: NaN, end: NaN }));
  const a = heardTokens.map((t) => t.text);
  const b = scriptTokens.map((t) => t.text);

  const found = findPassages(a, b, heardTokens, scriptTokens, options);
  const { passages, keptHeard, charsPerSec, repeated, reordered } = found;

  const matched = new Uint8Array(b.length);
  for (const pass of passages) for (const [, j] of pass.pairs) matched[j] = 1;
  const matchRatio = b.length === 0 ? 0 : matched.reduce((sum, x) => sum + x, 0) / b.length;
  if (matchRatio < options.minMatch) {
    throw new SophiaError(
      "script_mismatch",
      `the script does not fit the media: only ${(matchRatio * 100).toFixed(0)}% of its words were heard (at least ${(options.minMatch * 100).toFixed(0)}% needed; config_snapshot.refine.min_script_match). Check that input.script is the text of this recording`,
      { details: { match_ratio: matchRatio, script_tokens: b.length, heard_tokens: a.length } },
    );
  }

  const items = [
    ...passages.flatMap((pass) => passageItems(pass, written, heardTokens, scriptTokens)),
    ...heardItems(heard, heardTokens, keptHeard),
  ].sort((x, y) => x.key - y.key || x.order - y.order);

  const words = items.map((item) => item.word);
  const gaps = gapsOf(words, options.durationSec, charsPerSec, heard);
  const notInScript = runsOf(items, (item) => item.heard).map(([first, last]) => ({
    start: (words[first] as TimedWord).start,
    end: (words[last] as TimedWord).end,
    text: excerpt(words.slice(first, last + 1).map((word) => word.text)),
  }));
  const spokenWord = new Uint8Array(texts.length);
  for (const item of items) if (item.scriptWord >= 0) spokenWord[item.scriptWord] = 1;
  const notSpoken = runsOf(texts.map((_, w) => ({ missing: spokenWord[w] === 0 })), (x) => x.missing).map(([first, last]) => ({
    text: excerpt(texts.slice(first, last + 1)),
    words: last - first + 1,
  }));

  return {
    words,
    gaps,
    charsPerSec,
    report: {
      script_words: texts.length,
      heard_words: heard.length,
      match_ratio: round(matchRatio, 4),
      aligned_words: 0,
      heard_timed_words: 0,
      interpolated_words: 0,
      script_words_not_spoken: notSpoken.reduce((sum, run) => sum + run.words, 0),
      script_not_spoken: notSpoken,
      speech_not_in_script_words: items.filter((item) => item.heard).length,
      speech_not_in_script_sec: round(
        notInScript.reduce((sum, run) => sum + run.end - run.start, 0),
        3,
      ),
      speech_not_in_script: notInScript.map((run) => ({ start: round(run.start, 3), end: round(run.end, 3), text: run.text })),
      repeated_passages: repeated,
      reordered_passages: reordered,
      mean_boundary_shift_sec: 0,
    },
  };
}

/**
 * The plan's words with every gap timed: from the engine's times where it gave them (kept inside
 * the gap's stretch and in order), else by interpolation inside the stretch.
 */
export function timeScript(plan: ScriptPlan, times: readonly GapTimes[]): { words: TimedWord[]; report: AlignmentReport } {
  const words = plan.words.map((word) => ({ ...word }));
  let aligned = 0;
  let heardTimed = 0;
  let interpolated = 0;
  plan.gaps.forEach((gap, k) => {
    const run = words.slice(gap.first, gap.last + 1);
    const found = times[k];
    if (found && found.length === run.length) {
      placeAligned(run, found, gap);
      aligned += run.length;
    } else if (gap.heard) {
      interpolate(run, { ...gap, ...gap.heard }, plan.charsPerSec, "spread");
      heardTimed += run.length;
    } else {
      const anchor = gap.last === words.length - 1 ? "start" : gap.first === 0 ? "end" : "spread";
      interpolate(run, gap, plan.charsPerSec, anchor);
      interpolated += run.length;
    }
  });
  return { words, report: { ...plan.report, aligned_words: aligned, heard_timed_words: heardTimed, interpolated_words: interpolated } };
}

/** A word's tokens share its time in proportion to their length. */
function tokenize(texts: readonly string[], timeOf: (word: number) => { start: number; end: number }): Token[] {
  const tokens: Token[] = [];
  texts.forEach((text, word) => {
    const parts = matchTokens(text);
    const { start, end } = timeOf(word);
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    let at = start;
    for (const part of parts) {
      const next = at + ((end - start) * part.length) / total;
      tokens.push({ text: part, start: at, end: next, word });
      at = next;
    }
  });
  return tokens;
}

function speakingRate(pairs: readonly [number, number][], heard: readonly Token[], script: readonly Token[]): number {
  const chars = pairs.reduce((sum, [, j]) => sum + (script[j] as Token).text.length + 1, 0);
  const sec = pairs.reduce((sum, [i]) => sum + (heard[i] as Token).end - (heard[i] as Token).start, 0);
  return sec > 0 ? Math.min(CHARS_PER_SEC_RANGE[1], Math.max(CHARS_PER_SEC_RANGE[0], chars / sec)) : FALLBACK_CHARS_PER_SEC;
}

/**
 * Between each two consecutive matches (`bounds` adds the ends: [-1, -1] and [heard, script] for the whole media): a heard run the script lacks is
 * speech not in the script (when it is a passage, not a stray word the engine added); a script run
 * with too little time for it, or facing a different heard passage, was not spoken. Anything else
 * is script words the engine missed or misheard.
 */
function classifyGaps(bounds: readonly [number, number][], heard: readonly Token[], script: readonly Token[], charsPerSec: number, durationSec: number | null) {
  const unspoken = new Uint8Array(script.length);
  const extraRuns: [number, number][] = [];
  for (let k = 1; k < bounds.length; k++) {
    const [pa, pb] = bounds[k - 1] as [number, number];
    const [qa, qb] = bounds[k] as [number, number];
    const heardRun = qa - pa - 1;
    const scriptRun = qb - pb - 1;
    const replaced = heardRun >= REPLACED_TOKENS && scriptRun >= REPLACED_TOKENS;
    if (heardRun >= MIN_PASSAGE_TOKENS && (scriptRun === 0 || replaced)) extraRuns.push([pa + 1, qa]);
    if (scriptRun < MIN_PASSAGE_TOKENS) continue;
    const start = pa >= 0 ? (heard[pa] as Token).end : 0;
    const end = qa < heard.length ? (heard[qa] as Token).start : (durationSec ?? Infinity);
    const needed = script.slice(pb + 1, qb).reduce((sum, token) => sum + token.text.length + 1, 0) / charsPerSec;
    if (replaced || end - start < SPOKEN_TIME_SHARE * needed) unspoken.fill(1, pb + 1, qb);
  }
  return { unspoken, extraRuns };
}

/**
 * The passes of the script over the speech, from one search that may leave the script's order
 * (jumpAlign), at any length: its chains, those continuing forward joined, each a pass; a chain of
 * fewer than PASSAGE_MIN_MATCHES matches among others is chance and dissolved.
 */
function findPassages(a: readonly string[], b: readonly string[], heard: readonly Token[], script: readonly Token[], options: PlanOptions) {
  const { durationSec } = options;
  const found = jumpAlign(a, b, 0, a.length, options.onMatching);
  let chains = joinForward(found);
  if (chains.length > 1) chains = joinForward(chains.filter((chain) => chain.pairs.length >= PASSAGE_MIN_MATCHES));
  if (chains.length === 0) chains = [{ pairs: [], bStart: 0, bEnd: b.length }];
  const charsPerSec = speakingRate(chains.flatMap((chain) => chain.pairs), heard, script);
  const keptHeard = new Uint8Array(a.length);
  const passages: Passage[] = chains.map(({ pairs, bStart, bEnd }, k) => {
    const first = pairs[0];
    const next = chains[k + 1]?.pairs[0];
    // The heard tokens between two passes belong to the gap after the first of them.
    const left: [number, number] = k === 0 || !first ? [-1, -1] : [first[0] - 1, bStart - 1];
    const right: [number, number] = !next ? [a.length, b.length] : [next[0], bEnd];
    const { unspoken, extraRuns } = classifyGaps([left, ...pairs, right], heard, script, charsPerSec, durationSec);
    for (const [lo, hi] of extraRuns) keptHeard.fill(1, lo, hi);
    return { pairs, scriptLo: k === 0 ? 0 : bStart, scriptHi: next ? bEnd : b.length, skip: unspoken };
  });
  // A pass most of whose matches an earlier pass has matched too is the passage heard again.
  const isRepeat = passages.map(() => false);
  let reordered = 0;
  let furthest = -1;
  const seen = new Uint8Array(b.length);
  passages.forEach((pass, k) => {
    const again = pass.pairs.filter(([, j]) => seen[j]).length;
    const first = pass.pairs[0];
    if (first && furthest >= 0 && again * 2 >= pass.pairs.length) isRepeat[k] = true;
    else if (first && first[1] <= furthest) reordered++;
    for (const [, j] of pass.pairs) seen[j] = 1;
    furthest = Math.max(furthest, pass.pairs.at(-1)?.[1] ?? -1);
  });
  // A script word one pass heard is not guessed into another as well (a section said elsewhere than
  // written), unless one of the two is a repetition, where every pass says the same words.
  const matchedIn = new Int32Array(b.length).fill(-1);
  passages.forEach((pass, k) => {
    if (!isRepeat[k]) for (const [, j] of pass.pairs) matchedIn[j] = k;
  });
  passages.forEach((pass, k) => {
    if (isRepeat[k]) return;
    const own = new Set(pass.pairs.map(([, j]) => j));
    for (let j = pass.scriptLo; j < pass.scriptHi; j++) if (!own.has(j) && matchedIn[j] !== -1 && matchedIn[j] !== k) (pass.skip as Uint8Array)[j] = 1;
  });
  const repeated = isRepeat.filter(Boolean).length;
  return { passages, keptHeard, charsPerSec, repeated, reordered };
}

/** Consecutive chains where the second continues forward in the script: one pass, the gap between them a gap like any. */
function joinForward(chains: readonly Chain[]): Chain[] {
  const joined: Chain[] = [];
  for (const chain of chains) {
    const previous = joined.at(-1);
    const end = previous?.pairs.at(-1);
    const start = chain.pairs[0];
    if (previous && end && start && start[1] > end[1]) joined[joined.length - 1] = { pairs: [...previous.pairs, ...chain.pairs], bStart: previous.bStart, bEnd: chain.bEnd };
    else joined.push({ ...chain, pairs: [...chain.pairs] });
  }
  return joined;
}

interface Item {
  word: TimedWord;
  /** Position in the speech: the heard token it sits at (a fraction past it for a word of a gap). */
  key: number;
  order: number;
  /** The script word it is, or -1 for a heard word. */
  scriptWord: number;
  heard: boolean;
}

/**
 * The script words of one pass, each at the heard token its first matched token sits at, or, for a
 * word none of whose tokens matched, just after the word before it; timed from the heard tokens
 * matched (NaN where none was). `unspoken` marks the tokens the global pass leaves out; a word
 * without tokens (a lone dash) goes with the word before it.
 */
function passageItems(pass: Passage, written: readonly WrittenWord[], heard: readonly Token[], script: readonly Token[]): Item[] {
  if (pass.scriptHi <= pass.scriptLo) return [];
  const heardOf = new Map(pass.pairs.map(([i, j]) => [j, i]));
  const tokensOf = new Map<number, number[]>();
  for (let j = pass.scriptLo; j < pass.scriptHi; j++) {
    if (pass.skip?.[j]) continue;
    const word = (script[j] as Token).word;
    const list = tokensOf.get(word);
    if (list) list.push(j);
    else tokensOf.set(word, [j]);
  }
  // A pass that begins or ends the script also takes the token-less words (a lone dash) at its ends.
  const isGlobal = pass.scriptLo === 0;
  const from = pass.scriptLo === 0 ? 0 : (script[pass.scriptLo] as Token).word;
  const to = pass.scriptHi === script.length ? written.length - 1 : (script[pass.scriptHi - 1] as Token).word;
  const items: Item[] = [];
  let key = -1;
  let previous: Item | null = null;
  for (let w = from; w <= to; w++) {
    const asWritten = written[w] as WrittenWord;
    const text = asWritten.text;
    const tokens = tokensOf.get(w);
    if (!tokens) {
      const tokenless = matchTokens(text).length === 0;
      const before = previous as Item | null;
      if (tokenless && (before || (isGlobal && w === 0))) {
        const at: number = before ? before.word.end : NaN;
        previous = { word: { ...asWritten, start: at, end: at }, key: before ? before.key : key + 0.5, order: w, scriptWord: w, heard: false };
        items.push(previous);
      } else previous = null;
      continue;
    }
    const matched = tokens.flatMap((j) => {
      const i = heardOf.get(j);
      return i === undefined ? [] : [i];
    });
    const first = matched[0];
    if (first !== undefined) {
      key = first;
      const word = { ...asWritten, start: (heard[first] as Token).start, end: (heard[matched.at(-1) as number] as Token).end };
      previous = { word, key, order: w, scriptWord: w, heard: false };
    } else {
      previous = { word: { ...asWritten, start: NaN, end: NaN }, key: key + 0.5, order: w, scriptWord: w, heard: false };
    }
    items.push(previous);
  }
  return items;
}

/** Heard words whose first token is in a kept run: speech not in the script, as heard. */
function heardItems(heard: readonly TimedWord[], tokens: readonly Token[], kept: Uint8Array): Item[] {
  const items: Item[] = [];
  let previousWord = -1;
  tokens.forEach((token, i) => {
    if (token.word === previousWord) return;
    previousWord = token.word;
    if (kept[i]) items.push({ word: { ...(heard[token.word] as TimedWord) }, key: i, order: -1, scriptWord: -1, heard: true });
  });
  return items;
}

/**
 * Runs of untimed words, each with the stretch from the end of the timed word before to the start of
 * the one after, and where in it the engine heard other words (ScriptGap.heard).
 */
function gapsOf(words: readonly TimedWord[], durationSec: number | null, charsPerSec: number, heard: readonly TimedWord[]): ScriptGap[] {
  const gaps: ScriptGap[] = [];
  for (const [first, last] of runsOf(words, (word) => Number.isNaN(word.start))) {
    const needed = words.slice(first, last + 1).reduce((sum, word) => sum + word.text.length + 1, 0) / charsPerSec;
    const before = words[first - 1];
    const after = words[last + 1];
    const limit = durationSec ?? Infinity;
    const start = before ? before.end : after ? (durationSec === null ? Math.max(0, after.start - needed) : 0) : 0;
    const end = after ? after.start : durationSec === null ? start + needed : limit;
    const stretch = { start: Math.min(start, limit), end: Math.max(Math.min(start, limit), Math.min(end, limit)) };
    gaps.push({ first, last, ...stretch, heard: heardIn(heard, stretch, needed) });
  }
  return gaps;
}

/** The span of the heard words inside a gap's stretch, when it is between HEARD_SPAN times what the gap's words need; else null. */
function heardIn(heard: readonly TimedWord[], stretch: { start: number; end: number }, needed: number): ScriptGap["heard"] {
  let lo = 0;
  let hi = heard.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((heard[mid] as TimedWord).start < stretch.start - TIME_EPSILON) lo = mid + 1;
    else hi = mid;
  }
  let last = lo - 1;
  while (last + 1 < heard.length && (heard[last + 1] as TimedWord).end <= stretch.end + TIME_EPSILON) last++;
  if (last < lo) return null;
  const span = { start: (heard[lo] as TimedWord).start, end: (heard[last] as TimedWord).end };
  const length = span.end - span.start;
  return length >= HEARD_SPAN[0] * needed && length <= HEARD_SPAN[1] * needed ? span : null;
}

function runsOf<T>(items: readonly T[], inRun: (item: T) => boolean): [number, number][] {
  const runs: [number, number][] = [];
  items.forEach((item, k) => {
    if (!inRun(item)) return;
    const last = runs.at(-1);
    if (last && last[1] === k - 1) last[1] = k;
    else runs.push([k, k]);
  });
  return runs;
}

/** The engine's times, kept inside the gap and in order, no word stretched over a pause it does not fill. */
function placeAligned(run: TimedWord[], times: NonNullable<GapTimes>, gap: ScriptGap): void {
  let previousEnd = gap.start;
  run.forEach((word, k) => {
    const time = times[k] as { start: number; end: number };
    const start = Math.min(gap.end, Math.max(previousEnd, time.start));
    word.start = start;
    word.end = Math.min(gap.end, Math.max(start, time.end));
    previousEnd = word.end;
  });
}

/**
 * Words shared out over the gap in proportion to their length, none longer than MAX_STRETCH times
 * what its length needs: in the middle spread over the whole gap; before the first timed word,
 * packed just before it; after the last, packed just after it.
 */
function interpolate(run: TimedWord[], gap: ScriptGap, charsPerSec: number, anchor: "start" | "end" | "spread"): void {
  const weights = run.map((word) => word.text.length + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const span = gap.end - gap.start;
  const packed = Math.min(span, (MAX_STRETCH * total) / charsPerSec);
  const step = (anchor === "spread" ? span : packed) / total;
  let at = anchor === "end" ? gap.end - packed : gap.start;
  run.forEach((word, k) => {
    const weight = weights[k] as number;
    word.start = at;
    word.end = Math.min(at + weight * step, at + (MAX_STRETCH * weight) / charsPerSec);
    at += weight * step;
  });
}

function excerpt(texts: readonly string[]): string {
  return texts.length > EXCERPT_WORDS ? `${texts.slice(0, EXCERPT_WORDS).join(" ")} …` : texts.join(" ");
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
