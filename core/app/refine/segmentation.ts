/**
 * Cutting a stream of timed words into cues: dynamic programming over every place a cue could end,
 * choosing the cuts with the lowest total cost.
 *
 * A cut costs nothing after a sentence, a little after clause punctuation or at a pause, more
 * before a conjunction or preposition, much more anywhere else, and most inside a name or between
 * an article or adjective and its noun. A cue costs a little for existing (so fragments merge), more
 * for each sentence or long pause it spans, its line-break cost, and a large, graded penalty for
 * each rule its timing would break. So cues follow sentences and clauses, short fragments merge
 * with a neighbour when they would be too short to read, and where no cut meets every rule the
 * least bad one wins. The text of every cue fits its lines; only a single word longer than a line
 * can break that.
 */
import type { TimedWord } from "../transcript.js";
import type { BreakClass } from "./break_points.js";
import { breakLines, sliceRun, type WordRun } from "./line_breaking.js";
import type { RefineRules } from "./rules.js";
import { displayEnd } from "./timing.js";

const CUT_COST: Record<BreakClass, number> = {
  sentence: 0,
  clause: 1,
  before_function: 3,
  plain: 5,
  avoid: 8,
  never: 15,
};
/** A pause of `pause_split_sec` or more makes any cut but one inside a name about as good as a clause's. */
const PAUSE_CUT_COST = 1.5;
const CUE_COST = 0.5;
/** Keeping two sentences in one cue, or showing one cue across a pause. */
const SPANNED_SENTENCE_COST = 2.5;
const SPANNED_PAUSE_COST_PER_SEC = 2;
/** Rule penalties: far above any matter of style, and graded so the smallest breach wins when all breach. */
const RULE_COST = 100;
const UNFIT_WORD_COST = 1000;
/** Candidate cues are bounded by text length and by speech span, so the search stays linear in the words. */
const SPAN_LIMIT_FACTOR = 2;

export interface CueSpan {
  /** Index of the cue's first word. */
  first: number;
  /** Index of the cue's last word. */
  last: number;
  lines: string[];
}

/** `run` measures the words' texts (line_breaking.ts); `gaps[i]` is the class of the gap after word i. */
export function segmentWords(words: readonly TimedWord[], run: WordRun, gaps: readonly BreakClass[], rules: RefineRules): CueSpan[] {
  const n = words.length;
  const startMs = words.map((word) => Math.round(word.start * 1000));
  const endMs = words.map((word) => Math.round(word.end * 1000));
  const pauseSec = (gap: number) => (startMs[gap + 1] as number) / 1000 - (endMs[gap] as number) / 1000;
  const cutCost = (gap: number) => {
    const cost = CUT_COST[gaps[gap] as BreakClass];
    return pauseSec(gap) >= rules.pause_split_sec && gaps[gap] !== "never" ? Math.min(cost, PAUSE_CUT_COST) : cost;
  };
  const spannedCost = (gap: number) => {
    const pause = pauseSec(gap);
    return (gaps[gap] === "sentence" ? SPANNED_SENTENCE_COST : 0) + (pause >= rules.pause_split_sec ? SPANNED_PAUSE_COST_PER_SEC * pause : 0);
  };

  // best[j]: the cheapest cues for words 0..j-1; from[j]: where the last of them starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  const layout: (string[] | null)[] = new Array(n + 1).fill(null);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const last = j - 1;
    const nextStart = j < n ? (startMs[j] as number) : null;
    const cut = j < n ? cutCost(last) : 0;
    let chars = 0;
    let spanned = 0;
    for (let first = last; first >= 0; first--) {
      chars += (run.widths[first] as number) + (first < last ? (run.separatorWidths[first] as number) : 0);
      if (first < last) spanned += spannedCost(first);
      const single = first === last;
      if (!single && chars > rules.maxCueChars) break;
      if (!single && (endMs[last] as number) - (startMs[first] as number) > SPAN_LIMIT_FACTOR * rules.maxDurationMs) break;
      const previous = best[first] as number;
      if (previous === Infinity) continue;
      const broken = breakLines(sliceRun(run, first, j), gaps.slice(first, last), rules);
      if (!broken && !single) continue;
      const lines = broken?.lines ?? [run.texts[first] as string];
      const cost =
        previous +
        cut +
        CUE_COST +
        spanned +
        (broken ? broken.cost : UNFIT_WORD_COST) +
        timingPenalty(startMs[first] as number, endMs[last] as number, chars, nextStart, rules);
      if (cost < (best[j] as number)) {
        best[j] = cost;
        from[j] = first;
        layout[j] = lines;
      }
    }
  }

  const spans: CueSpan[] = [];
  for (let j = n; j > 0; j = from[j] as number) spans.push({ first: from[j] as number, last: j - 1, lines: layout[j] as string[] });
  return spans.reverse();
}

/** What the cue's best display time would still breach, as a graded penalty (0 when it meets every rule). */
function timingPenalty(startMs: number, speechEndMs: number, chars: number, nextStartMs: number | null, rules: RefineRules): number {
  const durationMs = displayEnd(startMs, speechEndMs, chars, nextStartMs, rules) - startMs;
  let penalty = 0;
  if (durationMs < rules.minDurationMs) penalty += RULE_COST + (rules.minDurationMs - durationMs) / 10;
  if (durationMs > rules.maxDurationMs) penalty += RULE_COST + (durationMs - rules.maxDurationMs) / 50;
  const cps = (chars * 1000) / durationMs;
  if (cps > rules.max_cps) penalty += RULE_COST + 10 * (cps - rules.max_cps);
  return penalty;
}
