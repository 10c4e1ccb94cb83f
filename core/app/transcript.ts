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
  /**
   * A language written without spaces between words but with spaces between phrases (Thai, Lao,
   * Khmer, Burmese) has a space before this word: the text keeps it when words are joined.
   */
  space_before: z.literal(true).optional(),
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

const SpanSchema = z.object({ start: z.number().nonnegative(), end: z.number().nonnegative() });

/**
 * Where speech was heard (Silero VAD) and whether it got words: `asr` never loses speech quietly
 * (spec §4.1). Uncovered means a stretch of speech of 1 s or more that no word's time overlaps.
 */
export const SpeechCoverageSchema = z.object({
  speech_sec: z.number().nonnegative(),
  /** Speech minus the uncovered stretches that remain. */
  speech_with_words_sec: z.number().nonnegative(),
  speech_with_words_pct: z.number().min(0).max(100),
  speech_regions: z.number().int().nonnegative(),
  /**
   * Stretches transcribed again on their own, and how many words that added. `reason`: "no_words",
   * speech without words; "doubtful", a region whose words Whisper got only by falling back to
   * sampling (or doubted itself), whose words the retry `replaced` when it was sure of its own;
   * "stretched", words holding more speech than words can (spec §4.1 step 3c), replaced when the
   * retry heard more words there.
   * Both absent in transcripts written before they were reported.
   */
  retried: z.array(
    SpanSchema.extend({
      words: z.number().int().nonnegative(),
      reason: z.enum(["no_words", "doubtful", "stretched"]).optional(),
      replaced: z.number().int().nonnegative().optional(),
    }),
  ),
  /** Speech that still has no words after the retry. */
  uncovered: z.array(SpanSchema),
  /** Degenerate word times repaired (or dropped), by kind. */
  word_repairs: z.object({
    clamped: z.number().int().nonnegative(),
    reordered: z.number().int().nonnegative(),
    dropped_at_end: z.number().int().nonnegative(),
    widened: z.number().int().nonnegative(),
    /** Words that started well before the speech they end in (Whisper opens a segment's first word in the silence before it), moved to where the speech starts. */
    early_start: z.number().int().nonnegative().default(0),
  }),
});
export type SpeechCoverage = z.infer<typeof SpeechCoverageSchema>;

export const TranscriptSchema = z.object({
  media: z.string(),
  duration_sec: z.number().nonnegative(),
  /** The language of the words: what refine writes subtitles in ("en" when the engine translated). */
  language: z.string().nullable(),
  /** The language spoken in the media, as given by the task or detected by the engine. */
  spoken_language: z.string().nullable(),
  /** The engine's confidence in the spoken language it detected; null when nothing was detected (the task gave the language, or the model is English-only). */
  language_probability: z.number().min(0).max(1).nullable(),
  model: z.string(),
  segments: z.array(TranscriptSegmentSchema),
  /** Absent when the engine does not check coverage, or for words rebuilt from an SRT. */
  coverage: SpeechCoverageSchema.optional(),
});
export type Transcript = z.infer<typeof TranscriptSchema>;
