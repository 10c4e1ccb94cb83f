/**
 * Refine, start to finish: clean what was heard, put the script's words in its place when there is
 * one, cut the words into cues, break their lines, time them, and count what still breaks a rule.
 *
 * Two pure halves, so the stage can ask the engine to time the script words nobody heard in
 * between: `planRefine` (cleaning and script matching) and `finishRefine` (timing the script's gaps,
 * cues, lines, times). `refineSegments` is both with every gap interpolated.
 */
import type { TimedWord } from "../transcript.js";
import { planScript, timeScript, type AlignmentReport, type GapTimes, type ScriptPlan } from "./alignment.js";
import { classifyBreaks } from "./break_points.js";
import { checkCues, summarize, type RuleName } from "./check.js";
import { capitalizeSentences, cleanTranscript, type CleaningReport, type TimedSegment } from "./clean.js";
import { measureWords } from "./line_breaking.js";
import type { RefineRules } from "./rules.js";
import { segmentWords, type CueSpan } from "./segmentation.js";
import type { Cue } from "../subtitles/index.js";
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

export interface RefineCallOptions {
  /** The text of what is said: the output has exactly its words. */
  script?: string;
  /** Length of the media in seconds; null or absent when unknown (no word is then timed past the last heard). */
  durationSec?: number | null;
  onProgress?: (fraction: number, msg: string) => void;
  /** The words' starts were put at speech onsets from the audio (asr's coverage step): see cleanTranscript. */
  onsetsFromAudio?: boolean;
}

/** What refine knows before any script word is timed from the audio. */
export interface RefinePlan {
  /** What was heard, cleaned. */
  heard: TimedWord[];
  cleaning: CleaningReport;
  /** With a script: its words in spoken order, and the gaps (ScriptPlan.gaps) still to time. */
  script: ScriptPlan | null;
}

/** The share of refine's progress bar that matching the script takes, and where it starts. */
const MATCHING_FROM = 0.05;
const MATCHING_TO = 0.25;

export function refineSegments(segments: readonly TimedSegment[], rules: RefineRules, options: RefineCallOptions = {}): RefineResult {
  const plan = planRefine(segments, rules, options);
  return finishRefine(plan, null, rules, options);
}

export function planRefine(segments: readonly TimedSegment[], rules: RefineRules, options: RefineCallOptions = {}): RefinePlan {
  const cleaned = cleanTranscript(segments, rules, options.onsetsFromAudio === true);
  if (options.script === undefined) return { heard: cleaned.words, cleaning: cleaned.report, script: null };
  const progress = options.onProgress ?? (() => undefined);
  progress(MATCHING_FROM, `matching ${cleaned.words.length} heard words with the script`);
  const script = planScript(cleaned.words, options.script, {
    minMatch: rules.min_script_match,
    durationSec: options.durationSec ?? null,
    language: rules.language,
    onMatching: (done, total) => progress(MATCHING_FROM + ((MATCHING_TO - MATCHING_FROM) * done) / total, `matching heard words with the script: ${done} of ${total} tokens`),
  });
  return { heard: cleaned.words, cleaning: cleaned.report, script };
}

/** `gapTimes`: per gap of plan.script, the engine's times for its words (null entries, or null for all, are interpolated). */
export function finishRefine(plan: RefinePlan, gapTimes: readonly GapTimes[] | null, rules: RefineRules, options: RefineCallOptions = {}): RefineResult {
  const progress = options.onProgress ?? (() => undefined);
  let words = plan.heard;
  let alignment: AlignmentReport | null = null;
  if (plan.script) {
    ({ words, report: alignment } = timeScript(plan.script, gapTimes ?? plan.script.gaps.map(() => null)));
  } else if (rules.capitalize) {
    words = capitalizeSentences(words, rules.language);
  }

  // With a script, the bar is mostly matching and the engine's alignment (the stage's): cues come last.
  const cutting = plan.script ? 0.85 : 0.3;
  progress(cutting, `finding break points in ${words.length} words`);
  const texts = words.map((word) => word.text);
  const spaceBefore = words.map((word) => word.space_before === true);
  const run = measureWords(texts, rules.writing, spaceBefore);
  const gaps = classifyBreaks(texts, rules.language, spaceBefore);
  progress(cutting + (1 - cutting) / 2, "cutting cues");
  const spans = segmentWords(words, run, gaps, rules);
  const times = layOutTimes(
    spans.map((span) => ({
      speechStartMs: Math.round((words[span.first] as TimedWord).start * 1000),
      speechEndMs: Math.round((words[span.last] as TimedWord).end * 1000),
      chars: span.lines.reduce((sum, line) => sum + textWidth(line, rules.writing), 0),
    })),
    rules,
  );
  const cues = spans.map((span, k) => ({
    start: (times[k]?.startMs as number) / 1000,
    end: (times[k]?.endMs as number) / 1000,
    lines: span.lines,
    words: words.slice(span.first, span.last + 1),
  }));
  if (alignment) alignment.mean_boundary_shift_sec = meanBoundaryShift(spans, words, plan.heard);
  return { cues, violations: summarize(checkCues(cues, rules)), alignment, cleaning: plan.cleaning, words: words.length };
}

/** What `planRefineJob` takes: planRefine's arguments as plain data, so that they can cross to a worker thread. */
export interface PlanJobInput {
  segments: readonly TimedSegment[];
  rules: RefineRules;
  script?: string;
  durationSec: number | null;
  onsetsFromAudio?: boolean;
}

/** What `finishRefineJob` takes: the plan, the engine's times for its gaps, and the rules. */
export interface FinishJobInput {
  plan: RefinePlan;
  gapTimes: readonly GapTimes[] | null;
  rules: RefineRules;
}

/** planRefine as an off-thread job (core/app/threads/off_thread.ts). */
export function planRefineJob(input: PlanJobInput, progress: (fraction: number, msg: string) => void): RefinePlan {
  return planRefine(input.segments, input.rules, { script: input.script, durationSec: input.durationSec, onsetsFromAudio: input.onsetsFromAudio, onProgress: progress });
}

/** finishRefine as an off-thread job. */
export function finishRefineJob(input: FinishJobInput, progress: (fraction: number, msg: string) => void): RefineResult {
  return finishRefine(input.plan, input.gapTimes, input.rules, { onProgress: progress });
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
