/**
 * Aligning two token sequences (what was heard, the script): which tokens are the same word said.
 *
 * Up to about 15 minutes of speech, one search that may jump anywhere in the script at a cost
 * (jumpAlign): a passage said twice, or sections in another order, come out as passes of their own.
 * Globally, like `diff` does it, patience style: runs of a few tokens that occur exactly once in
 * both, in the same order, anchor the alignment of a block too large to align directly; smaller
 * blocks are aligned by dynamic programming with affine gap costs (Gotoh), so that a passage the
 * script lacks, or one the speaker cut, is one gap rather than scattered chance matches. Locally,
 * the same scoring finds the best-matching stretch of one sequence inside the other (Smith and
 * Waterman): where a passage heard outside the script's order, or heard again, sits in the script.
 */

/** A block of at most this many cells is aligned by dynamic programming directly. */
const DP_CELLS = 4_000_000;
/** Anchor lengths tried, shortest first: long transcripts of a small vocabulary need longer runs to be unique. */
const ANCHOR_LENGTHS = [1, 2, 3, 4, 6, 8, 12, 16];
/** Without unique anchors, a block this large is still aligned; a larger one is left unmatched. */
const DP_CELLS_MAX = 64_000_000;
/** A local search over more cells than this is not made (the heard passage stays as heard). */
const LOCAL_CELLS_MAX = 16_000_000;

/**
 * Scores, higher is better. A gap costs most to open, little to extend: one missing paragraph is one
 * gap, and a misheard word is cheaper as a substitution than as a gap on each side.
 */
const MATCH = 2;
const MISMATCH = -1;
const GAP_OPEN = -3;
const GAP_EXTEND = -0.25;

/** Index pairs [a, b] of exactly matching tokens, increasing in both. */
export function alignTokens(a: readonly string[], b: readonly string[]): [number, number][] {
  const pairs: [number, number][] = [];
  alignRange(a, b, 0, a.length, 0, b.length, pairs);
  return pairs;
}

export interface LocalAlignment {
  /** Matching pairs [a, b], increasing in both; the first and last pair bound the alignment. */
  pairs: [number, number][];
  score: number;
}

/**
 * The best-scoring alignment of a stretch of a[aLo, aHi) with a stretch of b[bLo, bHi), or null
 * when nothing scores above zero or the search would be too large.
 */
export function localAlign(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number): LocalAlignment | null {
  if ((aHi - aLo) * (bHi - bLo) > LOCAL_CELLS_MAX) return null;
  const found = affineAlign(a, b, aLo, aHi, bLo, bHi, true);
  return found.pairs.length > 0 && found.score > 0 ? found : null;
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
      out.push(...affineAlign(a, b, aLo, aHi, bLo, bHi, false).pairs);
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

// States of the affine-gap alignment: the cell ends in a diagonal step (match or substitution), an
// a-token alone (gap in b), or a b-token alone (gap in a). START marks where a local alignment begins,
// or where a jump lands.
const DIAG = 0;
const A_ONLY = 1;
const B_ONLY = 2;
const START = 3;

/**
 * The three searches over one recurrence: `global` aligns both blocks whole, `local` finds the best
 * stretch of each (a fresh start anywhere, at no cost), `jump` aligns a whole but may start afresh
 * from the best cell of the row above, at the cost of JUMP.
 */
type Search = "global" | "local" | "jump";

/** What the forward pass leaves for a traceback. */
interface AffineTable {
  /** Per cell, per state, the state it came from (2 bits each, DIAG at bits 0-1, A_ONLY 2-3, B_ONLY 4-5). */
  from: Uint8Array;
  width: number;
  /** The last row's scores per state (where a global alignment ends). */
  last: [diag: Float64Array, aOnly: Float64Array, bOnly: Float64Array];
  /** `local`: the best-scoring cell that ends on a match. */
  bestMatch: { score: number; i: number; j: number };
  /** `jump`: per row, the best score, its column and its state (where a jump from the next row lands). */
  rowBest: Float64Array;
  rowBestAt: Int32Array;
  rowBestState: Uint8Array;
}

/**
 * Gotoh's affine-gap recurrence over a[aLo, aHi) × b[bLo, bHi), the one forward pass of every search.
 * Scores stay in two rolling rows; each cell keeps, per state, the state it came from.
 */
function affineTable(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number, search: Search): AffineTable {
  const local = search === "local";
  const jump = search === "jump";
  const n = aHi - aLo;
  const m = bHi - bLo;
  const width = m + 1;
  const from = new Uint8Array((n + 1) * width);
  const rowBest = new Float64Array(jump ? n + 1 : 0);
  const rowBestAt = new Int32Array(jump ? n + 1 : 0);
  const rowBestState = new Uint8Array(jump ? n + 1 : 0);
  const none = -Infinity;
  let diag = new Float64Array(width).fill(none);
  let aOnly = new Float64Array(width).fill(none);
  let bOnly = new Float64Array(width).fill(none);
  let nextDiag = new Float64Array(width);
  let nextAOnly = new Float64Array(width);
  let nextBOnly = new Float64Array(width);
  diag[0] = 0;
  if (!local) for (let j = 1; j <= m; j++) bOnly[j] = GAP_OPEN + (j - 1) * GAP_EXTEND;
  for (let j = 1; j <= m; j++) from[j] = (j > 1 ? B_ONLY : DIAG) << 4;
  const bestMatch = { score: 0, i: 0, j: 0 };

  for (let i = 1; i <= n; i++) {
    const row = i * width;
    const token = a[aLo + i - 1];
    // A diagonal step may instead start here: anywhere at no cost (local), or by a jump (jump).
    const restart = local ? 0 : jump ? (rowBest[i - 1] as number) + JUMP : none;
    nextDiag[0] = none;
    nextBOnly[0] = none;
    nextAOnly[0] = local ? none : GAP_OPEN + (i - 1) * GAP_EXTEND;
    from[row] = (i > 1 ? A_ONLY : DIAG) << 2;
    let best = nextAOnly[0];
    let bestAt = 0;
    let bestState = A_ONLY;
    for (let j = 1; j <= m; j++) {
      const score = token === b[bLo + j - 1] ? MATCH : MISMATCH;
      // Diagonal: from any state of the cell up-left, or a fresh start.
      let d = diag[j - 1] as number;
      let dFrom = DIAG;
      if ((aOnly[j - 1] as number) > d) [d, dFrom] = [aOnly[j - 1] as number, A_ONLY];
      if ((bOnly[j - 1] as number) > d) [d, dFrom] = [bOnly[j - 1] as number, B_ONLY];
      if (restart > d) [d, dFrom] = [restart, START];
      d += score;
      // An a-token alone: open from a diagonal or a b-gap above, or extend the a-gap.
      let x = (diag[j] as number) + GAP_OPEN;
      let xFrom = DIAG;
      if ((aOnly[j] as number) + GAP_EXTEND > x) [x, xFrom] = [(aOnly[j] as number) + GAP_EXTEND, A_ONLY];
      if ((bOnly[j] as number) + GAP_OPEN > x) [x, xFrom] = [(bOnly[j] as number) + GAP_OPEN, B_ONLY];
      // A b-token alone: the same, from the cell to the left.
      let y = (nextDiag[j - 1] as number) + GAP_OPEN;
      let yFrom = DIAG;
      if ((nextBOnly[j - 1] as number) + GAP_EXTEND > y) [y, yFrom] = [(nextBOnly[j - 1] as number) + GAP_EXTEND, B_ONLY];
      if ((nextAOnly[j - 1] as number) + GAP_OPEN > y) [y, yFrom] = [(nextAOnly[j - 1] as number) + GAP_OPEN, A_ONLY];
      nextDiag[j] = d;
      nextAOnly[j] = x;
      nextBOnly[j] = y;
      from[row + j] = dFrom | (xFrom << 2) | (yFrom << 4);
      if (local) {
        if (score === MATCH && d > bestMatch.score) [bestMatch.score, bestMatch.i, bestMatch.j] = [d, i, j];
      } else if (jump) {
        if (d > best) [best, bestAt, bestState] = [d, j, DIAG];
        if (x > best) [best, bestAt, bestState] = [x, j, A_ONLY];
        if (y > best) [best, bestAt, bestState] = [y, j, B_ONLY];
      }
    }
    if (jump) [rowBest[i], rowBestAt[i], rowBestState[i]] = [best, bestAt, bestState];
    [diag, nextDiag] = [nextDiag, diag];
    [aOnly, nextAOnly] = [nextAOnly, aOnly];
    [bOnly, nextBOnly] = [nextBOnly, bOnly];
  }
  return { from, width, last: [diag, aOnly, bOnly], bestMatch, rowBest, rowBestAt, rowBestState };
}

/** The state a cell's `state` came from. */
function cameFrom(table: AffineTable, i: number, j: number, state: number): number {
  return ((table.from[i * table.width + j] as number) >> (2 * state)) & 3;
}

/** The state with the best score at the end of the last row, and that score. */
function bestEnd(table: AffineTable, j: number): { state: number; score: number } {
  const ends = table.last.map((scores) => scores[j] as number);
  const state = ends.indexOf(Math.max(...ends));
  return { state, score: ends[state] as number };
}

/** Gotoh's affine-gap alignment of one block, global or local; emits the exact matches in order. */
function affineAlign(a: readonly string[], b: readonly string[], aLo: number, aHi: number, bLo: number, bHi: number, local: boolean): LocalAlignment {
  const table = affineTable(a, b, aLo, aHi, bLo, bHi, local ? "local" : "global");
  const end = local ? { ...table.bestMatch, state: DIAG } : { ...bestEnd(table, bHi - bLo), i: aHi - aLo, j: bHi - bLo };
  const matches: [number, number][] = [];
  let { i, j, state } = end;
  while (local ? state !== START && i > 0 && j > 0 : i > 0 || j > 0) {
    const came = cameFrom(table, i, j, state);
    if (state === DIAG) {
      if (a[aLo + i - 1] === b[bLo + j - 1]) matches.push([aLo + i - 1, bLo + j - 1]);
      i--;
      j--;
    } else if (state === A_ONLY) i--;
    else j--;
    state = came;
  }
  return { pairs: matches.reverse(), score: end.score };
}

/** Blocks up to this many cells are searched with jumps (jumpAlign); about 15 minutes of speech with its script. */
export const JUMP_CELLS = 4_000_000;
/** Leaving the script's order (a passage again, or another part of the script) costs this much: about four matched tokens. */
const JUMP = -12;

/**
 * Alignment of a[aLo, aHi) with all of b where the speech may leave the script's order: besides the
 * affine-gap steps, a step may jump from anywhere in b to anywhere in b, at a cost. A passage read
 * twice is two passes over the same stretch of b; sections read in another order are jumps back
 * and forth. Returns the chains of pairs between jumps, in the order of a (each increasing in both),
 * each with the stretch of b it went over (bStart to bEnd, exclusive: a chain may start or end on
 * tokens it did not match), or null when the block is larger than JUMP_CELLS.
 */
export interface Chain {
  pairs: [number, number][];
  bStart: number;
  bEnd: number;
}

export function jumpAlign(a: readonly string[], b: readonly string[], aLo: number, aHi: number): Chain[] | null {
  const n = aHi - aLo;
  const m = b.length;
  if ((n + 1) * (m + 1) > JUMP_CELLS) return null;
  const table = affineTable(a, b, aLo, aHi, 0, m, "jump");
  let { state } = bestEnd(table, m);
  const chains: Chain[] = [];
  let chain: Chain = { pairs: [], bStart: 0, bEnd: m };
  for (let i = n, j = m; i > 0 || j > 0; ) {
    const came = cameFrom(table, i, j, state);
    if (state === DIAG) {
      if (a[aLo + i - 1] === b[j - 1]) chain.pairs.push([aLo + i - 1, j - 1]);
      i--;
      j--;
      if (came === START) {
        chains.push({ ...chain, bStart: j });
        [j, state] = [table.rowBestAt[i] as number, table.rowBestState[i] as number];
        chain = { pairs: [], bStart: 0, bEnd: j };
        continue;
      }
    } else if (state === A_ONLY) i--;
    else j--;
    state = came;
  }
  chains.push(chain);
  for (const c of chains) c.pairs.reverse();
  return chains.reverse().filter((c) => c.pairs.length > 0);
}
