/**
 * The word-level transcript: what `asr` hands to `refine`.
 *
 * `asr` writes it as JSON to `workspace/outputs/_tmp/<task_id>/transcript.json`; `refine` reads it
 * (or rebuilds an approximation from a raw SRT when the pipeline is `["refine"]` alone).
 * Times are seconds from the start of the media.
 */
import { z } from "zod";

export const TimedWordSchema = z.object({
  /** The word as the engine wrote it, trimmed, with its attached punctuation ("dog."). */
  text: z.string(),
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  /** Engine confidence in 0..1, when the engine gives one. */
  probability: z.number().min(0).max(1).optional(),
});
export type TimedWord = z.infer<typeof TimedWordSchema>;

export const TranscriptSegmentSchema = z.object({
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  text: z.string(),
  words: z.array(TimedWordSchema),
  /** Whisper's probability that the segment's window held no speech (absent for words read from an SRT). */
  no_speech_prob: z.number().min(0).max(1).optional(),
  /** Mean log probability of the segment's tokens. */
  avg_logprob: z.number().optional(),
});
export type TranscriptSegment = z.infer<typeof TranscriptSegmentSchema>;

export const TranscriptSchema = z.object({
  media: z.string(),
  duration_sec: z.number().nonnegative(),
  language: z.string().nullable(),
  model: z.string(),
  segments: z.array(TranscriptSegmentSchema),
});
export type Transcript = z.infer<typeof TranscriptSchema>;

export function transcriptWords(transcript: Transcript): TimedWord[] {
  return transcript.segments.flatMap((segment) => segment.words);
}
