/**
 * The stdio protocol between the runner and worker.py: one JSON object per line each way.
 *
 * Runner → worker: `transcribe`, `align` and `load` requests. Worker → runner: `ready` once, then per
 * transcribe request `model`, `info`, `progress`…, `segment`… and `done` (with the speech coverage
 * report), where media longer than one piece (audio_pieces.py) has `progress`… then `segment`… per
 * piece; per align request `model`, `align_progress`… and `aligned`; per load request `model`; or an `error` at any point. Every line the worker writes is
 * validated here: a line that does not parse is a worker fault, never guessed at.
 */
import { z } from "zod";
import { SpeechCoverageSchema } from "../../transcript.js";
import type { FasterWhisperOptions } from "./options.js";
import { asError, describeIssues } from "../../errors.js";

const seconds = z.number().nonnegative();

/** The requests: the runner sends them, so they are typed here rather than parsed. */
export interface TranscribeRequestMessage {
  type: "transcribe";
  id: string;
  media: string;
  /** A model name ("tiny.en"), a name under SOPHIA_MODELS_DIR, or a model directory. */
  model: string;
  /** Every option, validated and complete (options.ts): the worker has no defaults of its own. */
  options: FasterWhisperOptions;
}

/** Times for given words, each span's words on the audio between its start and end. */
export interface AlignRequestMessage {
  type: "align";
  id: string;
  media: string;
  model: string;
  options: FasterWhisperOptions;
  /** The spoken language, for a multilingual model's tokenizer; null when unknown (English-only models ignore it). */
  language: string | null;
  spans: { start: number; end: number; words: string[] }[];
}
/** Load a model before a request needs it (a worker started in place of one a cancel killed); answered by `model`. */
export interface LoadRequestMessage {
  type: "load";
  id: string;
  model: string;
  options: FasterWhisperOptions;
}
export type RequestMessage = TranscribeRequestMessage | AlignRequestMessage | LoadRequestMessage;

export const ReadyMessageSchema = z.object({
  type: z.literal("ready"),
  pid: z.number().int().positive(),
  faster_whisper: z.string(),
  ctranslate2: z.string(),
});

export const ModelMessageSchema = z.object({
  type: z.literal("model"),
  id: z.string(),
  model: z.string(),
  /** The resolved model directory. */
  path: z.string(),
  /** Where it was found: "path", "models_dir", "bundled", "hf_cache" or "download". */
  source: z.string().optional(),
  load_sec: seconds,
  /** True when this worker had the model loaded already (load_sec is then 0). */
  cached: z.boolean(),
  /** Stretches of the media it transcribes at once (lanes.py): 1 unless the options ask for lanes, and always on a GPU or batched. */
  lanes: z.number().int().positive().optional(),
});

export const InfoMessageSchema = z.object({
  type: z.literal("info"),
  id: z.string(),
  /** Length of the media, before any VAD filtering: decoded, or for media longer than one piece as its container declares it (`done` has the decoded length). */
  duration: seconds,
  /** The spoken language: the task's, or the one the model detected. */
  language: z.string().nullable(),
  /** How sure the detection was; null when the task gave the language. */
  language_probability: z.number().min(0).max(1).nullable(),
});

export const WordMessageSchema = z.object({
  text: z.string(),
  start: seconds,
  end: seconds,
  probability: z.number().min(0).max(1),
  /** Thai, Lao, Khmer, Burmese: Whisper wrote a space before this word (a phrase boundary). */
  space_before: z.literal(true).optional(),
});

/** How far the first decoding pass has got; the segments come once coverage has checked them. */
export const ProgressMessageSchema = z.object({
  type: z.literal("progress"),
  id: z.string(),
  position: seconds,
  text: z.string(),
  /** Where in the media `text` is said: with lanes, far from `position`, which is the seconds transcribed in all. */
  text_at: seconds.optional(),
});

export const SegmentMessageSchema = z.object({
  type: z.literal("segment"),
  id: z.string(),
  start: seconds,
  end: seconds,
  text: z.string(),
  words: z.array(WordMessageSchema),
  /** Whisper's own doubt about the segment: refine drops filler it heard in silence by these. */
  no_speech_prob: z.number().min(0).max(1).optional(),
  avg_logprob: z.number().optional(),
});

export const DoneMessageSchema = z.object({
  type: z.literal("done"),
  id: z.string(),
  duration: seconds,
  language: z.string().nullable(),
  coverage: SpeechCoverageSchema.optional(),
});

export const AlignedWordSchema = z.object({
  start: seconds,
  end: seconds,
  probability: z.number().min(0).max(1),
});

/** Spans of an align request done so far, sent as each is (the spans are aligned several at once, in any order). */
export const AlignProgressMessageSchema = z.object({
  type: z.literal("align_progress"),
  id: z.string(),
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});

export const AlignedMessageSchema = z.object({
  type: z.literal("aligned"),
  id: z.string(),
  /** Per requested span, in order: a time for each of its words, or null when the span had no audio to place them in. */
  spans: z.array(z.array(AlignedWordSchema).nullable()),
});

/** The worker's own failure codes; any other string is treated as "internal". */
export const WORKER_ERROR_CODES = ["model_unavailable", "model_english_only", "media_unreadable", "internal", "cluster_unavailable", "worker_crashed", "engine_unavailable"] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

export const ErrorMessageSchema = z.object({
  type: z.literal("error"),
  /** null when the request line itself could not be read. */
  id: z.string().nullable(),
  code: z.string(),
  message: z.string(),
  traceback: z.string().optional(),
});

export const WorkerMessageSchema = z.discriminatedUnion("type", [
  ReadyMessageSchema,
  ModelMessageSchema,
  InfoMessageSchema,
  ProgressMessageSchema,
  SegmentMessageSchema,
  DoneMessageSchema,
  AlignProgressMessageSchema,
  AlignedMessageSchema,
  ErrorMessageSchema,
]);
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;
export type ReadyMessage = z.infer<typeof ReadyMessageSchema>;
export type ModelMessage = z.infer<typeof ModelMessageSchema>;
export type SegmentMessage = z.infer<typeof SegmentMessageSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

export type ParsedLine = { ok: true; message: WorkerMessage } | { ok: false; problem: string };

/** One stdout line of the worker, validated; `problem` says what is wrong with a bad line. */
export function parseWorkerLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, problem: `not JSON (${asError(error).message})` };
  }
  const result = WorkerMessageSchema.safeParse(json);
  return result.success ? { ok: true, message: result.data } : { ok: false, problem: describeIssues(result.error, [], "(message)") };
}

export function workerErrorCode(code: string): WorkerErrorCode {
  return (WORKER_ERROR_CODES as readonly string[]).includes(code) ? (code as WorkerErrorCode) : "internal";
}
