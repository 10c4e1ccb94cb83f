/** Script alignment without the engine, for tests of refine's matching (refine/alignment.ts). */
import { planScript, timeScript, type AlignmentReport } from "../../core/app/refine/alignment.js";
import type { TimedWord } from "../../core/app/transcript.js";

/** Steps 1 and 3 without the engine: every gap interpolated, as a refine without media does. */
export function alignScript(heard: readonly TimedWord[], script: string, minMatch: number, durationSec: number | null = null, language: string | null = null): { words: TimedWord[]; report: AlignmentReport } {
  const plan = planScript(heard, script, { minMatch, durationSec, language });
  return timeScript(plan, plan.gaps.map(() => null));
}
