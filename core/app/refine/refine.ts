/**
 * Refine, start to finish: clean what was heard, put the script's words in its place when there is
 * one, cut the words into cues, break their lines, time them, and count what still breaks a rule.
 */
import type { TimedWord } from "../transcript.js";
import { alignScript, type AlignmentReport } from "./alignment.js";
import { classifyBreaks } from "./break_points.js";
import { checkCues, summarize, type RuleName } from "./check.js";
import { capitalizeSentences, cleanTranscript, type CleaningReport, type TimedSegment } from "./clean.js";
import { measureWords } from "./line_breaking.js";
import type { RefineRules } from "./rules.js";
import { segmentWords, type CueSpan } from "./segmentation.js";
import type { Cue } from "./srt.js";
import { textWidth } from "./text.js";
import { layOutTimes } from "./timing.js";

export interface RefineResult {
  cues: Cue[];
  /** What the cues still break, per rule (every rule present): only where the speech allows nothing better. */
  violations: Record<RuleName, number>;
  /** With a script: how well it matched, and how far cue boundaries sit from the heard words. */
  alignment: AlignmentReport | null;
  cleaning: CleaningReport;
  words: number;
}

export interface RefineOptions {
  /** The text of what is said: the output has exactly its words. */
  script?: string;
  onProgress?: (fraction: number, msg: string) => void;
}

export function refineSegments(segments: readonly TimedSegment[], rules: RefineRules, options: RefineOptions = {}): RefineResult {
  const progress = options.onProgress ?? (() => undefined);
  const cleaned = cleanTranscript(segments, rules);
  let words = cleaned.words;
  let alignment: AlignmentReport | null = null;
  if (options.script !== undefined) {
    progress(0.1, `aligning ${words.length} heard words to the script`);
    ({ words, report: alignment } = alignScript(words, options.script, rules.min_script_match));
  } else if (rules.capitalize) {
    words = capitalizeSentences(words, rules.language);
  }

  progress(0.3, `finding break points in ${words.length} words`);
  const texts = words.map((word) => word.text);
  const run = measureWords(texts, rules.writing);
  const gaps = classifyBreaks(texts, rules.language);
  progress(0.6, "cutting cues");
  const spans = segmentWords(words, run, gaps, rules);
  const times = layOutTimes(
    spans.map((span) => ({
      speechStartMs: Math.round((words[span.first] as TimedWord).start * 1000),
      speechEndMs: Math.round((words[span.last] as TimedWord).end * 1000),
      chars: span.lines.reduce((sum, line) => sum + textWidth(line, rules.writing), 0),
    })),
    rules,
  );
  const cues = spans.map((span, k) => ({ start: (times[k]?.startMs as number) / 1000, end: (times[k]?.endMs as number) / 1000, lines: span.lines }));
  if (alignment) alignment.mean_boundary_shift_sec = meanBoundaryShift(spans, words, cleaned.words);
  return { cues, violations: summarize(checkCues(cues, rules)), alignment, cleaning: cleaned.report, words: words.length };
}

/** What `refineJob` takes: refineSegments' arguments as plain data, so that they can cross to a worker thread. */
export interface RefineJobInput {
  segments: readonly TimedSegment[];
  rules: RefineRules;
  script?: string;
}

/** refineSegments as an off-thread job (core/app/threads/off_thread.ts). */
export function refineJob(input: RefineJobInput, progress: (fraction: number, msg: string) => void): RefineResult {
  return refineSegments(input.segments, input.rules, { script: input.script, onProgress: progress });
}

/**
 * Mean distance, in seconds, from each cue's speech start to the nearest heard word start, and from
 * its speech end to the nearest heard word end: how closely script-timed cues follow the speech.
 */
function meanBoundaryShift(spans: readonly CueSpan[], words: readonly TimedWord[], heard: readonly TimedWord[]): number {
  if (spans.length === 0 || heard.length === 0) return 0;
  const starts = heard.map((word) => word.start).sort((a, b) => a - b);
  const ends = heard.map((word) => word.end).sort((a, b) => a - b);
  let total = 0;
  for (const span of spans) {
    total += distanceToNearest(starts, (words[span.first] as TimedWord).start);
    total += distanceToNearest(ends, (words[span.last] as TimedWord).end);
  }
  return Math.round((total / (2 * spans.length)) * 1000) / 1000;
}

/** Distance from `value` to the nearest element of the ascending array `sorted`. */
function distanceToNearest(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  const after = Math.abs((sorted[lo] as number) - value);
  const before = lo > 0 ? Math.abs((sorted[lo - 1] as number) - value) : Infinity;
  return Math.min(after, before);
}
