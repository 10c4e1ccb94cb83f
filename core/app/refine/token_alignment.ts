/**
 * Aligning two token sequences (what was heard, the script): which tokens are the same word said.
 *
 * One search, whatever the length (jumpAlign): the affine-gap alignment of Gotoh (a passage the
 * script lacks, or one the speaker cut, is one gap rather than scattered chance matches) in which a
 * step may also jump anywhere in the script at a cost, so that a passage said twice, or sections in
 * another order, come out as passes of their own. Only the cells that can still be on the best path
 * are kept (see jumpAlign), so an audiobook with its text costs time in proportion to its length.
 */

/**
 * Scores, higher is better. A gap costs most to open, little to extend: one missing paragraph is one
 * gap, and a misheard word is cheaper as a substitution than as a gap on each side.
 */
const MATCH = 2;
const MISMATCH = -1;
const GAP_OPEN = -3;
const GAP_EXTEND = -0.25;

// States of the affine-gap alignment: the cell ends in a diagonal step (match or substitution), an
// a-token alone (gap in b), or a b-token alone (gap in a). START marks where a jump lands.
const DIAG = 0;
const A_ONLY = 1;
const B_ONLY = 2;
const START = 3;

/** Leaving the script's order (a passage again, or another part of the script) costs this much: about four matched tokens. */
const JUMP = -12;
/**
 * A row keeps every live cell within NEAR_BAND columns of where the best path goes on (a b-gap
 * cheaper than a jump reaches that far), and at most MAX_FAR_CELLS others, the best: enough for
 * the places a jump may land and a few passes beside. Only a script that repeats itself many times
 * over has more, equally good, and there the passes farthest from the one the speech follows go.
 */
const NEAR_BAND = 48;
const MAX_FAR_CELLS = 400;
/** Heard tokens between two progress reports of jumpAlign. */
const PROGRESS_ROWS = 2_000;

/**
 * Alignment of a[aLo, aHi) with all of b where the speech may leave the script's order: besides the
 * affine-gap steps, a step may jump from anywhere in b to anywhere in b, at a cost. A passage read
 * twice is two passes over the same stretch of b; sections read in another order are jumps back
 * and forth. Returns the chains of pairs between jumps, in the order of a (each increasing in both),
 * each with the stretch of b it went over (bStart to bEnd, exclusive: a chain may start or end on
 * tokens it did not match).
 */
export interface Chain {
  pairs: [number, number][];
  bStart: number;
  bEnd: number;
}

/**
 * The search keeps, row by row (a heard token each), only the cells that could still be on the best
 * path: a cell more than -JUMP below its row's best is reached for less by a jump from that best
 * cell, so it is dropped, and a jump lands only where the heard token matches (a jump onto a mismatch
 * scores no better than the same jump a token later). What is left is a band around the live passes
 * and the places the token occurs in the script, so time and memory grow with the speech times the
 * token's occurrences, not with speech times script: hours of speech with their script take seconds,
 * and a script of repeated passages is searched the same at any length. `onProgress(done, total)`
 * is called every PROGRESS_ROWS heard tokens.
 */
export function jumpAlign(a: readonly string[], b: readonly string[], aLo: number, aHi: number, onProgress?: (done: number, total: number) => void): Chain[] {
  const n = aHi - aLo;
  const m = b.length;
  if (n <= 0 || m === 0) return [];
  const { aIds, bIds, columnsOf } = interned(a, b, aLo, aHi);
  const band = new Band(n);
  // Row 0: the script's first tokens skipped (a b-gap from the start), as far as that is cheaper than a jump.
  let previous = new Row();
  previous.push(0, 0, none, none, 0);
  for (let j = 1; j <= m && GAP_OPEN + (j - 1) * GAP_EXTEND > JUMP; j++) previous.push(j, none, none, GAP_OPEN + (j - 1) * GAP_EXTEND, (j > 1 ? B_ONLY : DIAG) << 4);
  band.endRow(0, previous, 0, 0, DIAG);
  let current = new Row();
  for (let i = 1; i <= n; i++) {
    fillRow(current, previous, aIds[i - 1] as number, bIds, columnsOf, m, band.rowBest[i - 1] as number, band.rowBestAt[i - 1] as number, i === n);
    // Of equal cells, the one that continues the best path of the row above: a script of repeated
    // passages has many equally good places, and the speech is followed through the nearest.
    const near = (band.rowBestAt[i - 1] as number) + 1;
    const best = current.best(near);
    if (i < n) current.prune(best.score + JUMP, best.score, near);
    band.endRow(i, current, best.score, best.at, best.state);
    [previous, current] = [current, previous];
    if (onProgress && i % PROGRESS_ROWS === 0) onProgress(i, n);
  }
  return band.chains(a, b, aLo, previous, m);
}

const none = -Infinity;

/** Tokens as integers, and per token the columns (1-based positions in b) where it occurs. */
function interned(a: readonly string[], b: readonly string[], aLo: number, aHi: number) {
  const ids = new Map<string, number>();
  const id = (token: string) => {
    let found = ids.get(token);
    if (found === undefined) ids.set(token, (found = ids.size));
    return found;
  };
  const bIds = Int32Array.from(b, id);
  const aIds = Int32Array.from(a.slice(aLo, aHi), id);
  const columnsOf: number[][] = Array.from({ length: ids.size }, () => []);
  bIds.forEach((token, j) => (columnsOf[token] as number[]).push(j + 1));
  return { aIds, bIds, columnsOf };
}

/** The live cells of one row, in column order: each state's score (none where dropped) and where each came from. */
class Row {
  cols = new Int32Array(64);
  diag = new Float64Array(64);
  aOnly = new Float64Array(64);
  bOnly = new Float64Array(64);
  from = new Uint8Array(64);
  length = 0;

  clear(): void {
    this.length = 0;
  }

  push(col: number, diag: number, aOnly: number, bOnly: number, from: number): void {
    if (this.length === this.cols.length) this.grow();
    const k = this.length++;
    this.cols[k] = col;
    this.diag[k] = diag;
    this.aOnly[k] = aOnly;
    this.bOnly[k] = bOnly;
    this.from[k] = from;
  }

  /** The best score of the row, its column and state; on a tie the cell nearest `near`, then DIAG before A_ONLY before B_ONLY. */
  best(near: number): { score: number; at: number; state: number } {
    let [score, at, state] = [none, 0, DIAG];
    for (let k = 0; k < this.length; k++) {
      const col = this.cols[k] as number;
      const closer = Math.abs(col - near) < Math.abs(at - near);
      for (let s = DIAG; s <= B_ONLY; s++) {
        const value = this.score(k, s);
        if (value > score || (value === score && closer)) {
          score = value;
          at = col;
          state = s;
        }
      }
    }
    return { score, at, state };
  }

  score(k: number, state: number): number {
    return (state === DIAG ? this.diag[k] : state === A_ONLY ? this.aOnly[k] : this.bOnly[k]) as number;
  }

  private top(k: number): number {
    return Math.max(this.diag[k] as number, this.aOnly[k] as number, this.bOnly[k] as number);
  }

  /**
   * Drops every state scoring at or below `floor`, and the cells left with none; then, of the cells
   * farther than NEAR_BAND from `near`, all but the MAX_FAR_CELLS best (of equal ones, the nearest).
   */
  prune(floor: number, best: number, near: number): void {
    // Scores are multiples of a quarter: a far cell's rank is how many quarters it is below the best.
    const buckets = new Int32Array(Math.ceil((best - floor) * 4) + 1);
    let far = 0;
    let kept = 0;
    for (let k = 0; k < this.length; k++) {
      if ((this.diag[k] as number) <= floor) this.diag[k] = none;
      if ((this.aOnly[k] as number) <= floor) this.aOnly[k] = none;
      if ((this.bOnly[k] as number) <= floor) this.bOnly[k] = none;
      const top = this.top(k);
      if (top === none) continue;
      if (Math.abs((this.cols[k] as number) - near) > NEAR_BAND) {
        (buckets[Math.round((best - top) * 4)] as number)++;
        far++;
      }
      this.move(k, kept++);
    }
    this.length = kept;
    if (far > MAX_FAR_CELLS) this.keepBestFar(buckets, best, near);
  }

  private move(k: number, to: number): void {
    if (k === to) return;
    this.cols[to] = this.cols[k] as number;
    this.diag[to] = this.diag[k] as number;
    this.aOnly[to] = this.aOnly[k] as number;
    this.bOnly[to] = this.bOnly[k] as number;
    this.from[to] = this.from[k] as number;
  }

  private keepBestFar(buckets: Int32Array, best: number, near: number): void {
    let [cut, room] = [0, MAX_FAR_CELLS];
    while ((buckets[cut] as number) <= room) room -= buckets[cut++] as number;
    const keep = new Uint8Array(this.length).fill(1);
    const tied: number[] = [];
    for (let k = 0; k < this.length; k++) {
      if (Math.abs((this.cols[k] as number) - near) <= NEAR_BAND) continue;
      const rank = Math.round((best - this.top(k)) * 4);
      if (rank > cut) keep[k] = 0;
      else if (rank === cut) tied.push(k);
    }
    tied.sort((x, y) => Math.abs((this.cols[x] as number) - near) - Math.abs((this.cols[y] as number) - near));
    for (const k of tied.slice(room)) keep[k] = 0;
    let kept = 0;
    for (let k = 0; k < this.length; k++) {
      // A b-gap state whose cell to the left went has nothing left to come from: it goes too.
      const leftGone = k > 0 && this.cols[k - 1] === (this.cols[k] as number) - 1 && (!keep[k - 1] || (this.bOnly[k - 1] === none && ((this.from[k] as number) >> 4) === B_ONLY));
      if (leftGone) this.bOnly[k] = none;
      if (keep[k] && this.top(k) === none) keep[k] = 0;
      if (keep[k]) this.move(k, kept++);
    }
    this.length = kept;
  }

  private grow(): void {
    const size = this.cols.length * 2;
    const grown = <T extends Int32Array | Float64Array | Uint8Array>(array: T, make: new (size: number) => T): T => {
      const bigger = new make(size);
      bigger.set(array);
      return bigger;
    };
    this.cols = grown(this.cols, Int32Array);
    this.diag = grown(this.diag, Float64Array);
    this.aOnly = grown(this.aOnly, Float64Array);
    this.bOnly = grown(this.bOnly, Float64Array);
    this.from = grown(this.from, Uint8Array);
  }
}

/**
 * One row of Gotoh's affine-gap recurrence with jumps, over the columns that can be live: those a
 * cell of the row above reaches (down or diagonally), those where the token occurs (a jump may land
 * there), the last column (a jump to the script's end: the rest of the speech is not in it), and a
 * b-gap running right from a live cell while it stays above what the row is sure to reach.
 */
function fillRow(row: Row, above: Row, token: number, bIds: Int32Array, columnsOf: readonly number[][], m: number, bestAbove: number, bestAboveAt: number, lastRow: boolean): void {
  row.clear();
  const restart = bestAbove + JUMP;
  // Where the best path goes on with a match, the row's best is a match more, and a jump lands a jump
  // below it: it would be dropped, so none is tried (most rows, and most of the work otherwise).
  const jumps = lastRow || bestAboveAt >= m || bIds[bestAboveAt] !== token;
  const matches = jumps ? (columnsOf[token] ?? []) : [];
  // The row reaches at least a diagonal step from the best cell above, or at the script's end a gap under it.
  let floor = bestAbove + (bestAboveAt < m ? MISMATCH : GAP_OPEN) + JUMP;
  let [down, diagonal, match, q] = [0, 0, 0, 0];
  let last = -1;
  for (;;) {
    while (down < above.length && (above.cols[down] as number) <= last) down++;
    while (diagonal < above.length && (above.cols[diagonal] as number) + 1 <= last) diagonal++;
    while (match < matches.length && (matches[match] as number) <= last) match++;
    let col = jumps && last < m ? m : Infinity;
    if (down < above.length) col = Math.min(col, above.cols[down] as number);
    if (diagonal < above.length) col = Math.min(col, (above.cols[diagonal] as number) + 1);
    if (match < matches.length) col = Math.min(col, matches[match] as number);
    const k = row.length - 1;
    // A b-gap (script words skipped) runs on from cells near the best path only: a pass far from it
    // that skips script words is as well found by a jump a token later.
    if (k >= 0 && last + 1 < col && last < m && Math.abs(last - bestAboveAt - 1) <= NEAR_BAND) {
      const extended = Math.max((row.diag[k] as number) + GAP_OPEN, (row.bOnly[k] as number) + GAP_EXTEND, (row.aOnly[k] as number) + GAP_OPEN);
      if (extended > floor) col = last + 1;
    }
    if (col > m) return;
    while (q < above.length && (above.cols[q] as number) < col - 1) q++;
    const upLeft = q < above.length && above.cols[q] === col - 1 ? q : -1;
    const up = upLeft >= 0 ? (q + 1 < above.length && above.cols[q + 1] === col ? q + 1 : -1) : q < above.length && above.cols[q] === col ? q : -1;
    // Diagonal: from any state of the cell up-left, or a fresh start by a jump.
    let d = none;
    let dFrom = DIAG;
    if (col >= 1) {
      if (upLeft >= 0) {
        d = above.diag[upLeft] as number;
        if ((above.aOnly[upLeft] as number) > d) {
          d = above.aOnly[upLeft] as number;
          dFrom = A_ONLY;
        }
        if ((above.bOnly[upLeft] as number) > d) {
          d = above.bOnly[upLeft] as number;
          dFrom = B_ONLY;
        }
      }
      if (restart > d) {
        d = restart;
        dFrom = START;
      }
      d += token === bIds[col - 1] ? MATCH : MISMATCH;
    }
    // An a-token alone: open from a diagonal or a b-gap above, or extend the a-gap.
    let x = none;
    let xFrom = DIAG;
    if (up >= 0) {
      x = (above.diag[up] as number) + GAP_OPEN;
      if ((above.aOnly[up] as number) + GAP_EXTEND > x) {
        x = (above.aOnly[up] as number) + GAP_EXTEND;
        xFrom = A_ONLY;
      }
      if ((above.bOnly[up] as number) + GAP_OPEN > x) {
        x = (above.bOnly[up] as number) + GAP_OPEN;
        xFrom = B_ONLY;
      }
    }
    // A b-token alone: the same, from the cell to the left.
    let y = none;
    let yFrom = DIAG;
    if (k >= 0 && row.cols[k] === col - 1) {
      y = (row.diag[k] as number) + GAP_OPEN;
      if ((row.bOnly[k] as number) + GAP_EXTEND > y) {
        y = (row.bOnly[k] as number) + GAP_EXTEND;
        yFrom = B_ONLY;
      }
      if ((row.aOnly[k] as number) + GAP_OPEN > y) {
        y = (row.aOnly[k] as number) + GAP_OPEN;
        yFrom = A_ONLY;
      }
    }
    row.push(col, d, x, y, dFrom | (xFrom << 2) | (yFrom << 4));
    floor = Math.max(floor, d + JUMP, x + JUMP, y + JUMP);
    last = col;
  }
}

/** Every row's live cells (column and where each state came from) and best cell: what the traceback reads. */
class Band {
  private cols = new Int32Array(1 << 16);
  private from = new Uint8Array(1 << 16);
  private size = 0;
  private readonly rowStart: Int32Array;
  readonly rowBest: Float64Array;
  readonly rowBestAt: Int32Array;
  private readonly rowBestState: Uint8Array;

  constructor(n: number) {
    this.rowStart = new Int32Array(n + 2);
    this.rowBest = new Float64Array(n + 1);
    this.rowBestAt = new Int32Array(n + 1);
    this.rowBestState = new Uint8Array(n + 1);
  }

  endRow(i: number, row: Row, best: number, at: number, state: number): void {
    if (this.size + row.length > this.cols.length) {
      const size = Math.max(this.cols.length * 2, this.size + row.length);
      const cols = new Int32Array(size);
      cols.set(this.cols.subarray(0, this.size));
      const from = new Uint8Array(size);
      from.set(this.from.subarray(0, this.size));
      [this.cols, this.from] = [cols, from];
    }
    this.rowStart[i] = this.size;
    this.cols.set(row.cols.subarray(0, row.length), this.size);
    this.from.set(row.from.subarray(0, row.length), this.size);
    this.size += row.length;
    this.rowStart[i + 1] = this.size;
    [this.rowBest[i], this.rowBestAt[i], this.rowBestState[i]] = [best, at, state];
  }

  /** The state a cell's `state` came from (the cell is live: the traceback follows live cells only). */
  private cameFrom(i: number, j: number, state: number): number {
    let lo = this.rowStart[i] as number;
    let hi = (this.rowStart[i + 1] as number) - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cols[mid] as number) < j) lo = mid + 1;
      else hi = mid;
    }
    if (this.cols[lo] !== j) throw new Error(`token alignment: the traceback left the band at row ${i}, column ${j}`);
    return ((this.from[lo] as number) >> (2 * state)) & 3;
  }

  /**
   * The chains of the best path ending at the last cell: reached from a cell of the last row (`last`)
   * in its state, or from one left of it by a b-gap to the script's end (the rest of the script not
   * spoken), whichever scores best.
   */
  chains(a: readonly string[], b: readonly string[], aLo: number, last: Row, m: number): Chain[] {
    let [score, j, state] = [none, m, DIAG];
    for (let k = 0; k < last.length; k++) {
      const col = last.cols[k] as number;
      const [d, x, y] = [last.diag[k] as number, last.aOnly[k] as number, last.bOnly[k] as number];
      // The b-gap to the end opens from a diagonal or an a-gap, or goes on from a b-gap.
      const ends = col === m ? [d, x, y] : [d + GAP_OPEN, x + GAP_OPEN, y + GAP_EXTEND].map((value) => value + (m - col - 1) * GAP_EXTEND);
      ends.forEach((end, s) => {
        if (end > score || (end === score && col === m && j !== m)) [score, j, state] = [end, col, s];
      });
    }
    const chains: Chain[] = [];
    let chain: Chain = { pairs: [], bStart: 0, bEnd: m };
    for (let i = this.rowBest.length - 1; i > 0 || j > 0; ) {
      const came = this.cameFrom(i, j, state);
      if (state === DIAG) {
        if (a[aLo + i - 1] === b[j - 1]) chain.pairs.push([aLo + i - 1, j - 1]);
        i--;
        j--;
        if (came === START) {
          chains.push({ ...chain, bStart: j });
          [j, state] = [this.rowBestAt[i] as number, this.rowBestState[i] as number];
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
}
