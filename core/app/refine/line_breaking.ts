/**
 * Line breaking inside one cue: a cue that fits on one line stays on one line; otherwise the break
 * goes where a reader expects it (see break_points.ts), and when two breaks are about as good, the
 * one that makes the lower line longer wins (the "pyramid" shape the style guides ask for).
 */
import type { BreakClass } from "./break_points.js";
import { charCount, type RefineRules } from "./rules.js";

/** What a line break costs at each kind of gap; a cue's cost is the sum over its breaks. */
const LINE_BREAK_COST: Record<BreakClass, number> = {
  sentence: 0,
  clause: 0.3,
  before_function: 1,
  plain: 2.5,
  avoid: 5,
  never: 12,
};
/** A top line longer than the one below it: small next to the break costs, so grammar wins first. */
const TOP_HEAVY_COST = 0.5;
const LENGTH_DIFFERENCE_COST = 0.02;

export interface BrokenLines {
  lines: string[];
  cost: number;
}

/**
 * The best way to lay out `words` (one cue) in at most `rules.max_lines` lines of at most
 * `rules.max_chars_per_line` characters, or null when they do not fit. `gaps[i]` is the class of the
 * gap after `words[i]`; `lengths[i]` its character count.
 */
export function breakLines(words: readonly string[], lengths: readonly number[], gaps: readonly BreakClass[], rules: Pick<RefineRules, "max_lines" | "max_chars_per_line">): BrokenLines | null {
  const n = words.length;
  const prefix = [0];
  for (let i = 0; i < n; i++) prefix.push((prefix[i] as number) + (lengths[i] as number));
  // Characters from word `from` to before word `to`, with the spaces between them.
  const width = (from: number, to: number) => (prefix[to] as number) - (prefix[from] as number) + (to - from - 1);
  if (n === 0) return { lines: [], cost: 0 };
  if (width(0, n) <= rules.max_chars_per_line) return { lines: [words.join(" ")], cost: 0 };

  let best: { ends: number[]; cost: number } | null = null;
  // Every way to cut the words into 2..max_lines lines that fit; at most three lines of a few words, so this stays small.
  const search = (from: number, linesLeft: number, ends: number[], cost: number, previousWidth: number | null) => {
    const rest = width(from, n);
    if (previousWidth !== null && rest <= rules.max_chars_per_line) {
      const total = cost + shapeCost(previousWidth, rest);
      if (!best || total < best.cost) best = { ends: [...ends, n], cost: total };
    }
    if (linesLeft <= 1) return;
    for (let to = from + 1; to < n; to++) {
      const lineWidth = width(from, to);
      if (lineWidth > rules.max_chars_per_line) break;
      const shape = previousWidth === null ? 0 : shapeCost(previousWidth, lineWidth);
      search(to, linesLeft - 1, [...ends, to], cost + shape + LINE_BREAK_COST[gaps[to - 1] as BreakClass], lineWidth);
    }
  };
  search(0, rules.max_lines, [], 0, null);
  if (!best) return null;
  const { ends, cost } = best as { ends: number[]; cost: number };
  const lines: string[] = [];
  let from = 0;
  for (const to of ends) {
    lines.push(words.slice(from, to).join(" "));
    from = to;
  }
  return { lines, cost };
}

function shapeCost(top: number, bottom: number): number {
  return (top > bottom ? TOP_HEAVY_COST : 0) + LENGTH_DIFFERENCE_COST * Math.abs(top - bottom);
}

/** Character counts of words, computed once per transcript. */
export function wordLengths(words: readonly string[]): number[] {
  return words.map(charCount);
}
