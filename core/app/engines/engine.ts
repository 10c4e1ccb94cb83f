/**
 * What a speech-to-text engine offers the `asr` stage. One implementation today: faster_whisper.
 */
import type { Transcript } from "../transcript.js";
import type { ResolvedFasterWhisperConfig } from "./faster_whisper/options.js";

/** `config_snapshot.engine`, validated and complete (registry.ts, resolveEngineConfig). One engine type today. */
export type EngineConfig = ResolvedFasterWhisperConfig;

export interface TranscribeRequest {
  /** Absolute path of the media file; the engine only reads it. */
  media: string;
  config: EngineConfig;
}

export interface TranscribeProgress {
  position_sec: number;
  duration_sec: number;
  /** Text of the segment just transcribed, for progress messages. */
  text: string;
  /** Where in the media that text is said (with lanes, not where `position_sec` is). */
  text_at_sec?: number;
}

/** The model that serves a request, once it is loaded. */
export interface LoadedModel {
  /** The name or directory the request asked for. */
  model: string;
  /** The directory the model was loaded from. */
  path: string;
  /** Where it was found ("path", "models_dir", "bundled", "hf_cache", "download"). */
  source?: string;
  load_sec: number;
  /** True when the engine had it loaded already, from an earlier request. */
  cached: boolean;
  /** Stretches of the media the engine transcribes at once, where it shares them out (faster_whisper: lanes.py). */
  lanes?: number;
}

export interface TranscribeControls {
  signal: AbortSignal;
  onProgress: (progress: TranscribeProgress) => void;
  /** The engine has the request: it is reading the audio and loading the model (the slow start of a long file). */
  onAccepted?: () => void;
  onModel?: (model: LoadedModel) => void;
  /** The audio is read and the language known: transcription proper starts, and onProgress follows. */
  onAudio?: (audio: { duration_sec: number; language: string | null }) => void;
}

export interface AlignRequest {
  media: string;
  /** The engine and model that transcribed the media: the same model aligns. */
  config: EngineConfig;
  /** The spoken language as transcription detected it; null when unknown. */
  language: string | null;
  /** Stretches of the media (seconds), each with the words said in it, in order. */
  spans: readonly { start: number; end: number; words: readonly string[] }[];
}

export interface AlignedWord {
  start: number;
  end: number;
  /** How sure the model is of the word's tokens there, 0..1. */
  probability: number;
}

export interface AlignControls {
  signal: AbortSignal;
  onModel?: (model: LoadedModel) => void;
  /** As spans are done: how many of how many (the first call may come before any is). */
  onProgress?: (done: number, total: number) => void;
}

/** A model the engine can use, and what it is. */
export interface ModelInfo {
  /** The name a task gives (`tiny.en`, `base`), or the directory it gave. */
  name: string;
  /** Where it was found: "path" (a directory), "models_dir" (workspace/models), "bundled", "hf_cache", or "download" (not here yet, downloads allowed). */
  source: "path" | "models_dir" | "bundled" | "hf_cache" | "download";
  /** Its directory; null until a model to download is downloaded. */
  path: string | null;
  size_bytes: number | null;
  /** False for an English-only model; null when that cannot be told before it is downloaded. */
  multilingual: boolean | null;
}

/** A Ray cluster that runs an engine's requests instead of this machine (config.ts: cluster). */
export interface ClusterSettings {
  /** host:port of the head, or `auto`. */
  address: string;
  /** Folders every node sees at the same path: media under them is not sent through the object store. */
  sharedPaths: string[];
}

export interface AsrEngine {
  /** Every model available to this engine here. */
  models(): Promise<ModelInfo[]>;
  /**
   * Finds the model a request would use and checks it can do what the options ask (an English-only
   * model asked for another language fails), without loading it: what submit and preflight run.
   * `signal` stops the lookup (a runner told to stop during preflight); it then rejects with the reason.
   */
  check(config: EngineConfig, signal?: AbortSignal): Promise<ModelInfo>;
  /** Refuses (media_not_audio) media without an audio stream this engine can decode: what submit runs. */
  checkMedia(media: string, signal?: AbortSignal): Promise<void>;
  /** Resolves with the whole transcript; rejects with a SophiaError (or the abort reason when aborted). */
  transcribe(request: TranscribeRequest, controls: TranscribeControls): Promise<Transcript>;
  /**
   * Forced alignment: when each given word is said within its span. One entry per span, in order:
   * a time inside the span for every word, or null where the span has no audio to place them in.
   */
  align(request: AlignRequest, controls: AlignControls): Promise<(AlignedWord[] | null)[]>;
  /**
   * An engine that runs on a cluster: reaches it before any task starts, so that a cluster that
   * cannot be reached leaves every task queued. Rejects with cluster_unavailable.
   */
  connect?(signal?: AbortSignal): Promise<void>;
  /** Ends the engine's processes; safe to call twice. */
  close(): Promise<void>;
}
