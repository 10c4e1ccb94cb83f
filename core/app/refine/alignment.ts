/**
 * Script alignment: the script's words, every one of them once and in order, timed by what the
 * engine heard.
 *
 * Both texts become normalised tokens (text.ts: case, punctuation and number spelling folded). The
 * token sequences are aligned like `diff` does it, patience style: tokens (or, failing those, runs
 * of a few tokens) that occur exactly once in both, in the same order, anchor the alignment; between
 * anchors, an edit-distance alignment finds the rest of the exact matches. Whole hours stay fast
 * because every dynamic-programming block is small. A matched script token takes the heard token's time. Unmatched script tokens between two
 * matches share the time of what was heard between them (a misheard "12%" for "twelve percent"),
 * or, where nothing was heard, the silence between them, in proportion to their length.
 */
import { SophiaError } from "../errors.js";
import type { TimedWord } from "../transcript.js";
import { matchTokens } from "./text.js";

export interface AlignmentReport {
  script_words: number;
  heard_words: number;
  /** Script tokens (normalised words) matched exactly with a heard token, over all script tokens. */
  match_ratio: number;
  /** Script words with none of their tokens matched: their times are interpolated. */
  interpolated_words: number;
  /** Filled in by refine once cues exist: how far cue boundaries sit from the heard words' times. */
  mean_boundary_shift_sec: number;
}

interface Token {
  text: string;
  start: number;
  end: number;
  /** The word (script or heard) the token belongs to. */
  word: number;
}

/** Blocks of at most this many cells are aligned by dynamic programming directly. */
const DP_CELLS = 4_000_000;
/** Anchor lengths tried, shortest first: long transcripts of a small vocabulary need longer runs to be unique. */
const ANCHOR_LENGTHS = [1, 2, 3, 4, 6, 8, 12, 16];
/** Without unique anchors, a block this large is still aligned; a larger one is left unmatched. */
const DP_CELLS_MAX = 64_000_000;
/** Speaking rate assumed for script words before the first or after the last heard word. */
const FALLBACK_CHARS_PER_SEC = 15;

function scriptWords(script: string): string[] {
  return script.split(/\s+/u).filter((word) => word !== "");
}

export function alignScript(heard: readonly TimedWord[], script: string, minMatch: number): { words: TimedWord[]; report: AlignmentReport } {
  const texts = scriptWords(script);
  if (texts.length === 0) throw new SophiaError("script_mismatch", "input.script has no words: give the text of what is said, or no script");
  const heardTokens = tokenize(heard.map((word) => word.text), (i) => heard[i] as TimedWord);
  const scriptTokens = tokenize(texts, () => ({ start: 0, end: 0 }));
  const pairs = alignTokens(heardTokens.map((t) => t.text), scriptTokens.map((t) => t.text));
  const matchRatio = scriptTokens.length === 0 ? 0 : pairs.length / scriptTokens.length;
  if (matchRatio < minMatch) {
    throw new SophiaError(
      "script_mismatch",
      `the script does not fit the media: only ${(matchRatio * 100).toFixed(0)}% of its words were heard in order (at least ${(minMatch * 100).toFixed(0)}% needed; config_snapshot.refine.min_script_match). Check that input.script is the text of this recording`,
      { details: { match_ratio: matchRatio, script_tokens: scriptTokens.length, heard_tokens: heardTokens.length } },
    );
  }
  timeScriptTokens(scriptTokens, heardTokens, pairs);

  const matchedWords = new Set(pairs.map(([, b]) => (scriptTokens[b] as Token).word));
  const words = wordTimes(texts, scriptTokens);
  return {
    words,
    report: {
      script_words: texts.length,
      heard_words: heard.length,
      match_ratio: round(matchRatio, 4),
      interpolated_words: texts.length - matchedWords.size,
      mean_boundary_shift_sec: 0,
    },
  };
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

/** Index pairs [heard, script] of exactly matching tokens, increasing in both. */
export function alignTokens(a: readonly string[], b: readonly string[]): [number, number][] {
  const pairs: [number, number][] = [];
  alignRange(a, b, 0, a.length, 0, b.length, pairs);
  return pairs;
}

function alignRange(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number, out: [number, number][]): void {
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) out.push([aLo++, bLo++]);
  const suffix: [number, number][] = [];
  while (aLo < aHi && bLo < bHi && a[aHi - 1] === b[bHi - 1]) suffix.push([--aHi, --bHi]);
  const cells = (aHi - aLo) * (bHi - bLo);
  if (cells > 0) {
    const anchors = cells > DP_CELLS ? uniqueAnchors(a, b, aLo, aHi, bLo, bHi) : [];
    if (anchors.length > 0) {
      let [ai, bi] = [aLo, bLo];
      for (const [x, y] of anchors) {
        alignRange(a, b, ai, x, bi, y, out);
        out.push([x, y]);
        [ai, bi] = [x + 1, y + 1];
      }
      alignRange(a, b, ai, aHi, bi, bHi, out);
    } else if (cells <= DP_CELLS_MAX) {
      editAlign(a, b, aLo, aHi, bLo, bHi, out);
    }
  }
  out.push(...suffix.reverse());
}

/**
 * Anchors for a block too large to align directly: runs of n tokens that occur exactly once in each
 * side, for the smallest n that has any, kept where they agree in order (longest increasing chain)
 * and do not overlap. Returned as token pairs.
 */
function uniqueAnchors(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number): [number, number][] {
  for (const n of ANCHOR_LENGTHS) {
    if (aHi - aLo < n || bHi - bLo < n) break;
    const counts = new Map<string, { a: number; b: number; ai: number; bi: number }>();
    const entry = (key: string) => {
      let found = counts.get(key);
      if (!found) counts.set(key, (found = { a: 0, b: 0, ai: -1, bi: -1 }));
      return found;
    };
    for (let i = aLo; i + n <= aHi; i++) {
      const e = entry(a.slice(i, i + n).join(" "));
      e.a++;
      e.ai = i;
    }
    for (let j = bLo; j + n <= bHi; j++) {
      const e = entry(b.slice(j, j + n).join(" "));
      e.b++;
      e.bi = j;
    }
    const candidates = [...counts.values()].filter((e) => e.a === 1 && e.b === 1).map((e) => [e.ai, e.bi] as [number, number]);
    if (candidates.length === 0) continue;
    candidates.sort((x, y) => x[0] - y[0]);
    const pairs: [number, number][] = [];
    let [nextA, nextB] = [aLo, bLo];
    for (const [x, y] of longestIncreasing(candidates)) {
      if (x < nextA || y < nextB) continue; // overlaps the anchor before it
      for (let k = 0; k < n; k++) pairs.push([x + k, y + k]);
      [nextA, nextB] = [x + n, y + n];
    }
    return pairs;
  }
  return [];
}

/** Longest subsequence of pairs (sorted by first) whose second also increases: O(k log k). */
function longestIncreasing(pairs: readonly [number, number][]): [number, number][] {
  const tails: number[] = [];
  const previous = new Int32Array(pairs.length).fill(-1);
  pairs.forEach(([, y], i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pairs[tails[mid] as number] as [number, number])[1] < y) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const result: [number, number][] = [];
  for (let i = tails.length > 0 ? (tails.at(-1) as number) : -1; i >= 0; i = previous[i] as number) result.push(pairs[i] as [number, number]);
  return result.reverse();
}

/** Levenshtein alignment of one block; emits its exact matches in order. */
function editAlign(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number, out: [number, number][]): void {
  const n = aHi - aLo;
  const m = bHi - bLo;
  // 0: diagonal (match or substitution), 1: skip a heard token, 2: skip a script token.
  const move = new Uint8Array((n + 1) * (m + 1));
  let previous = new Int32Array(m + 1);
  let current = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) {
    previous[j] = j;
    move[j] = 2;
  }
  for (let i = 1; i <= n; i++) {
    current[0] = i;
    move[i * (m + 1)] = 1;
    const token = a[aLo + i - 1];
    for (let j = 1; j <= m; j++) {
      const diagonal = (previous[j - 1] as number) + (token === b[bLo + j - 1] ? 0 : 1);
      const skipHeard = (previous[j] as number) + 1;
      const skipScript = (current[j - 1] as number) + 1;
      let best = diagonal;
      let choice = 0;
      if (skipHeard < best) [best, choice] = [skipHeard, 1];
      if (skipScript < best) [best, choice] = [skipScript, 2];
      current[j] = best;
      move[i * (m + 1) + j] = choice;
    }
    [previous, current] = [current, previous];
  }
  const matches: [number, number][] = [];
  for (let i = n, j = m; i > 0 || j > 0; ) {
    const choice = move[i * (m + 1) + j];
    if (choice === 0) {
      if (a[aLo + i - 1] === b[bLo + j - 1]) matches.push([aLo + i - 1, bLo + j - 1]);
      i--;
      j--;
    } else if (choice === 1) i--;
    else j--;
  }
  out.push(...matches.reverse());
}

/** Times for every script token: matched ones from their heard token, the rest shared out between matches. */
function timeScriptTokens(script: Token[], heard: readonly Token[], pairs: readonly [number, number][]): void {
  const matchedChars = pairs.reduce((sum, [, b]) => sum + (script[b] as Token).text.length + 1, 0);
  const matchedSec = pairs.reduce((sum, [a]) => sum + ((heard[a] as Token).end - (heard[a] as Token).start), 0);
  const charsPerSec = matchedSec > 0 ? Math.min(30, Math.max(5, matchedChars / matchedSec)) : FALLBACK_CHARS_PER_SEC;
  let previousA = -1;
  let previousB = -1;
  for (const [a, b] of [...pairs, [heard.length, script.length] as [number, number]]) {
    if (b > previousB + 1) {
      const gap = script.slice(previousB + 1, b);
      spread(gap, spanBetween(heard, previousA, a, gap, charsPerSec));
    }
    if (b < script.length) {
      const source = heard[a] as Token;
      const target = script[b] as Token;
      target.start = source.start;
      target.end = source.end;
    }
    previousA = a;
    previousB = b;
  }
}

/** The time unmatched script tokens between heard tokens `before` and `after` (exclusive) may take. */
function spanBetween(heard: readonly Token[], before: number, after: number, tokens: readonly Token[], charsPerSec: number): { start: number; end: number } {
  const firstHeard = heard[before + 1];
  const lastHeard = heard[after - 1];
  if (after - before > 1 && firstHeard && lastHeard) return { start: firstHeard.start, end: lastHeard.end };
  const needed = tokens.reduce((sum, token) => sum + token.text.length + 1, 0) / charsPerSec;
  const previous = heard[before];
  const next = heard[after];
  if (previous && next) return { start: previous.end, end: Math.max(previous.end, next.start) };
  if (next) return { start: Math.max(0, next.start - needed), end: next.start };
  if (previous) return { start: previous.end, end: previous.end + needed };
  return { start: 0, end: needed };
}

function spread(tokens: readonly Token[], span: { start: number; end: number }): void {
  const total = tokens.reduce((sum, token) => sum + token.text.length + 1, 0);
  let at = span.start;
  for (const token of tokens) {
    token.start = at;
    at += ((span.end - span.start) * (token.text.length + 1)) / total;
    token.end = at;
  }
}

/**
 * Each script word's time from its tokens. A word without tokens (a lone dash) sits at the end of
 * the word before it.
 */
function wordTimes(texts: readonly string[], tokens: readonly Token[]): TimedWord[] {
  const spans = texts.map(() => ({ start: Infinity, end: -Infinity }));
  for (const token of tokens) {
    const span = spans[token.word] as { start: number; end: number };
    span.start = Math.min(span.start, token.start);
    span.end = Math.max(span.end, token.end);
  }
  let previousEnd = 0;
  return texts.map((text, i) => {
    const span = spans[i] as { start: number; end: number };
    const start = Number.isFinite(span.start) ? span.start : previousEnd;
    const end = Number.isFinite(span.end) ? span.end : start;
    previousEnd = end;
    return { text, start, end };
  });
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
