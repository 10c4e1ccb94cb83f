/** The refine module's public surface: what the refine stage and the `check`/`refine` commands use. */
export { checkCues, summarize, RULE_NAMES, type RuleName, type Violation } from "./check.js";
export type { CleaningReport, TimedSegment } from "./clean.js";
export type { AlignmentReport, GapTimes, ScriptGap } from "./alignment.js";
export { alignWindows, gapTimesOf, type AlignWindow } from "./align_windows.js";
export { segmentsFromCues } from "./cue_words.js";
export { languageOfScript } from "./languages.js";
export { finishRefine, planRefine, refineSegments, type FinishJobInput, type PlanJobInput, type RefinePlan, type RefineResult } from "./refine.js";
export { LANGUAGE_CODE, resolveRules, type RefineRules } from "./rules.js";
