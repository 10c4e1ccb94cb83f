/**
 * Line breaking inside one cue: a cue that fits on one line stays on one line; otherwise the break
 * goes where a reader expects it (see break_points.ts), and when two breaks are about as good, the
 * one that makes the lower line longer wins (the "pyramid" shape the style guides ask for).
 */
import type { BreakClass } from "./break_points.js";
import type { Writing } from "./languages.js";
import type { RefineRules } from "./rules.js";
import { separator, textWidth } from "./text.js";

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

/**
 * Words measured once per transcript: `widths[i]` is word i's width, `separators[i]` what joins it
 * to word i + 1 on a line (a space, or nothing in a language written without spaces) and
 * `separatorWidths[i]` that separator's width.
 */
export interface WordRun {
  texts: readonly string[];
  widths: readonly number[];
  separators: readonly string[];
  separatorWidths: readonly number[];
}

/** `spaceBefore[i]`: the text had a space before word i where the language otherwise has none (TimedWord.space_before). */
export function measureWords(texts: readonly string[], writing: Writing, spaceBefore: readonly boolean[] = []): WordRun {
  const separators = texts.slice(1).map((text, i) => separator(texts[i] as string, text, writing, spaceBefore[i + 1] === true));
  return { texts, widths: texts.map((text) => textWidth(text, writing)), separators, separatorWidths: separators.map((text) => textWidth(text, writing)) };
}

/** Words `from` to before `to` of a run. */
export function sliceRun(run: WordRun, from: number, to: number): WordRun {
  return { texts: run.texts.slice(from, to), widths: run.widths.slice(from, to), separators: run.separators.slice(from, to - 1), separatorWidths: run.separatorWidths.slice(from, to - 1) };
}

export interface BrokenLines {
  lines: string[];
  cost: number;
}

/**
 * The best way to lay out `run` (one cue) in at most `rules.max_lines` lines of at most
 * `rules.max_chars_per_line` characters, or null when they do not fit. `gaps[i]` is the class of the
 * gap after word i.
 */
export function breakLines(run: WordRun, gaps: readonly BreakClass[], rules: Pick<RefineRules, "max_lines" | "max_chars_per_line">): BrokenLines | null {
  const n = run.texts.length;
  // prefix[i]: the width of words 0..i-1 with the separators between them and the one after word i-1.
  const prefix = [0];
  for (let i = 0; i < n; i++) prefix.push((prefix[i] as number) + (run.widths[i] as number) + (run.separatorWidths[i] ?? 0));
  // Width from word `from` to before word `to`, without the separator after the last of them.
  const width = (from: number, to: number) => (prefix[to] as number) - (prefix[from] as number) - (run.separatorWidths[to - 1] ?? 0);
  if (n === 0) return { lines: [], cost: 0 };
  if (width(0, n) <= rules.max_chars_per_line) return { lines: [lineText(run, 0, n)], cost: 0 };

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
    lines.push(lineText(run, from, to));
    from = to;
  }
  return { lines, cost };
}

function lineText(run: WordRun, from: number, to: number): string {
  let text = run.texts[from] as string;
  for (let i = from + 1; i < to; i++) text += (run.separators[i - 1] as string) + (run.texts[i] as string);
  return text;
}

function shapeCost(top: number, bottom: number): number {
  return (top > bottom ? TOP_HEAVY_COST : 0) + LENGTH_DIFFERENCE_COST * Math.abs(top - bottom);
}
