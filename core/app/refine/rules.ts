/**
 * The subtitle rules and refine options: one definition, with its defaults, for the refine stage
 * (`config_snapshot.refine`), `sophia-cli refine` and `sophia-cli check`.
 *
 * Defaults follow the Netflix Timed Text Style Guide of the subtitles' language (languages.ts),
 * English where there is none. An option set explicitly wins over the language's default. Unknown
 * keys are refused rather than ignored: a misspelt rule (`max_char_per_line`) must not silently fall
 * back to the default.
 */
import { z } from "zod";
import { SophiaError } from "../errors.js";
import { invalidOptions } from "../option_errors.js";
import { baseLanguage, languageLimits, writingOf, type Writing } from "./languages.js";

/** A Whisper language code or a BCP 47 tag ("de", "yue", "pt-BR", "zh-Hant"). */
export const LANGUAGE_CODE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;

export const RefineOptionsSchema = z.strictObject({
  /** Lines per cue. */
  max_lines: z.number().int().min(1).max(3).default(2),
  /**
   * The language of the subtitles' text, as a Whisper or BCP 47 code ("de", "zh", "pt-BR"). Absent:
   * the language asr transcribed in, or English when that is unknown (an SRT file alone).
   */
  language: z.string().regex(LANGUAGE_CODE, 'expected a language code such as "de", "zh" or "pt-BR"').optional(),
  /**
   * Characters per line (spaces and punctuation count; the line break does not). Absent: the
   * language's (42; 16 for Chinese and Korean, 13 for Japanese, 35 for Thai).
   */
  max_chars_per_line: z.number().int().min(10).max(200).optional(),
  /** Shortest time a cue stays on screen, in seconds (5/6 s = 20 frames at 24 fps). */
  min_duration_sec: z.number().positive().max(10).default(5 / 6),
  /** Longest time a cue stays on screen, in seconds. */
  max_duration_sec: z.number().positive().max(60).default(7),
  /**
   * Reading speed limit in characters per second. Absent: the language's, for adults or with
   * `children` for children (English 20 and 17; German, Spanish, French 17 and 13; Chinese 9 and 7).
   */
  max_cps: z.number().positive().max(100).optional(),
  /** Children's content: the language's lower reading speed limit. */
  children: z.boolean().default(false),
  /** Frame rate the minimum gap is counted in. */
  frame_rate: z.number().positive().max(120).default(24),
  /** Frames of blank screen required between consecutive cues (2 frames = 83 ms at 24 fps). */
  min_gap_frames: z.number().int().min(0).max(24).default(2),
  /** A silence at least this long (seconds) is a good place to end a cue. */
  pause_split_sec: z.number().positive().max(10).default(0.5),
  /** Remove Whisper's repeated-phrase loops (a phrase said 3+ times in a row, a single word 4+ times). */
  collapse_loops: z.boolean().default(true),
  /** Remove filler the engine heard in silence ("Thank you.", "[Music]") when it was unsure of it. */
  remove_filler: z.boolean().default(true),
  /** Capitalise the first letter of each sentence (and a lone "i") when there is no script. */
  capitalize: z.boolean().default(true),
  /**
   * With a script: the share of the script's words that must be found, in order, in what the engine
   * heard; below it the task fails, because the script does not fit the media.
   */
  min_script_match: z.number().min(0).max(1).default(0.5),
});

/** `config_snapshot.refine` as a whole: the options plus `enabled` (false skips the stage). Published as schemas/refine.schema.json. */
export const RefineConfigSchema = RefineOptionsSchema.extend({ enabled: z.boolean().default(true) });

export type RefineOptions = z.output<typeof RefineOptionsSchema>;

/** The options resolved, plus the derived limits in the integer milliseconds the timing works in. */
export interface RefineRules extends Omit<RefineOptions, "language"> {
  /** The subtitles' language; null when unknown (then the English rules apply). */
  language: string | null;
  writing: Writing;
  max_chars_per_line: number;
  max_cps: number;
  minDurationMs: number;
  maxDurationMs: number;
  minGapMs: number;
  /** Most characters one cue can hold: every line full, plus a space where each line break goes. */
  maxCueChars: number;
}

/**
 * Validates rule settings (`config_snapshot.refine`, or the CLI's `--rules`) and fills in the
 * defaults for the language: `settings.language` if given, else `language` (what asr transcribed),
 * else English. Throws `task_invalid` naming each field at fault.
 */
export function resolveRules(settings: Record<string, unknown> = {}, where = "config_snapshot.refine", language: string | null = null): RefineRules {
  const parsed = RefineConfigSchema.safeParse(settings);
  if (!parsed.success) throw invalidOptions(parsed.error, where, "refine options", Object.keys(RefineConfigSchema.shape));
  const { enabled: _enabled, language: chosen, ...options } = parsed.data;
  const textLanguage = chosen ?? language;
  const limits = languageLimits(textLanguage);
  const max_chars_per_line = options.max_chars_per_line ?? limits.max_chars_per_line;
  const minDurationMs = Math.floor(options.min_duration_sec * 1000);
  const maxDurationMs = Math.floor(options.max_duration_sec * 1000);
  if (maxDurationMs < minDurationMs) {
    throw new SophiaError("task_invalid", `${where}: max_duration_sec (${options.max_duration_sec}) is shorter than min_duration_sec (${options.min_duration_sec})`);
  }
  return {
    ...options,
    language: baseLanguage(textLanguage),
    writing: writingOf(textLanguage),
    max_chars_per_line,
    max_cps: options.max_cps ?? (options.children ? limits.children_max_cps : limits.max_cps),
    minDurationMs,
    maxDurationMs,
    // Floor: 2 frames at 24 fps is 83.3 ms, and an SRT file can only say 83.
    minGapMs: Math.floor((options.min_gap_frames * 1000) / options.frame_rate),
    maxCueChars: options.max_lines * max_chars_per_line + options.max_lines - 1,
  };
}
