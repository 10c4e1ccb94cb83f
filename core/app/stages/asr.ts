/**
 * The `asr` stage: media → word-level transcript (for `refine`) and the raw SRT (one cue per
 * engine segment, the engine's own text and timing, untouched, except what it heard in pure silence).
 */
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import type { LoadedModel } from "../engines/engine.js";
import { resolveEngineConfig, type EngineRegistry } from "../engines/registry.js";
import { assertFileExists } from "../file_exists.js";
import { formatSrt } from "../subtitles/index.js";
import type { Transcript } from "../transcript.js";
import { AsrSteps, clock } from "./asr_progress.js";
import { writeTranscript } from "./transcript_handoff.js";
import type { PreflightContext, Stage, StageContext, StageResult } from "./stage.js";

export function createAsrStage(engines: EngineRegistry): Stage {
  return {
    name: "asr",
    outputs: (paths) => [paths.raw],
    async preflight({ task, paths, signal }: PreflightContext): Promise<void> {
      const config = resolveEngineConfig(task.config_snapshot.engine);
      await assertFileExists(paths.media, `input.media "${task.input.media}"`, { missing: "media_missing", notAFile: "media_unreadable", ifNotAFile: "give the path of an audio or video file" });
      // The model is here and can do what the task asks: a task must not fail on it after hours in the queue.
      await engines.get(config.type).check(config, signal);
    },

    async run({ task, paths, signal, progress }: StageContext): Promise<StageResult> {
      const config = resolveEngineConfig(task.config_snapshot.engine);
      const engine = engines.get(config.type);

      const steps = new AsrSteps(progress, config.task === "translate" ? "translating" : "transcribing", path.basename(paths.media), config.model);
      steps.starting(config.type);
      const loaded: LoadedModel[] = [];
      const heard = await engine.transcribe(
        { media: paths.media, config },
        {
          signal,
          onAccepted: () => steps.loading(),
          onModel: (info) => {
            loaded.push(info);
            steps.modelReady(info);
          },
          onAudio: (audio) => steps.audioRead(audio.duration_sec, audio.language),
          onProgress: ({ position_sec, duration_sec, text, text_at_sec }) => steps.position(position_sec, duration_sec, text, text_at_sec),
        },
      ).finally(() => steps.stop());
      signal.throwIfAborted();
      const transcript = withoutSpeechInSilence(heard);

      await writeTranscript(paths.tmpDir, transcript);
      await writeFileAtomically(paths.rawSrt, rawSrt(transcript), { check: paths.assertWritable });
      progress(1, `${transcript.segments.length} segments${uncoveredNote(transcript)}`);
      return {
        artifacts: [{ path: paths.rawSrt, kind: "raw_srt" }],
        summary: {
          model: transcript.model,
          // Whether this runner had the model loaded from an earlier task: how a watch runner's reuse shows.
          model_path: loaded[0]?.path ?? null,
          model_cached: loaded[0]?.cached ?? false,
          model_load_sec: loaded[0]?.load_sec ?? null,
          // Stretches of the media transcribed at once (spec §4.1, "the cores as lanes"); null for an engine that does not say.
          model_lanes: loaded[0]?.lanes ?? null,
          task: config.task,
          language: transcript.language,
          spoken_language: transcript.spoken_language,
          language_probability: transcript.language_probability,
          media_duration_sec: transcript.duration_sec,
          segments: transcript.segments.length,
          words: transcript.segments.reduce((sum, segment) => sum + segment.words.length, 0),
          // Speech that still has no words does not fail the task (a cough, music, a language the model
          // cannot write): the summary says where it is, so the app can point the user to it.
          coverage: transcript.coverage ?? null,
        },
      };
    },
  };
}

/** Whisper's own doubt that a segment is speech, above which (with no speech found at all) it is dropped. */
const NO_SPEECH_DOUBT = 0.5;

/**
 * Whisper writes words into pure silence ("You", three times in a minute of it) and doubts them
 * itself (no-speech probability 0.95). When the voice activity detector found no speech anywhere in
 * the media (`coverage.speech_sec` 0), the segments Whisper doubted are dropped from the transcript
 * and the raw SRT: they are not what anyone said. One it was sure of stays (speech the detector
 * missed). With speech anywhere in the media nothing is dropped here; refine judges doubted filler.
 */
function withoutSpeechInSilence(transcript: Transcript): Transcript {
  if (transcript.coverage?.speech_sec !== 0) return transcript;
  const segments = transcript.segments.filter((segment) => (segment.no_speech_prob ?? 0) < NO_SPEECH_DOUBT);
  return segments.length === transcript.segments.length ? transcript : { ...transcript, segments };
}

function uncoveredNote({ coverage }: Transcript): string {
  if (!coverage || coverage.uncovered.length === 0) return "";
  const missing = coverage.speech_sec - coverage.speech_with_words_sec;
  return `; ${missing.toFixed(1)} s of speech without words at ${coverage.uncovered.map((span) => `${clock(span.start)}–${clock(span.end)}`).join(", ")}`;
}

function rawSrt(transcript: Transcript): string {
  return formatSrt(
    transcript.segments
      .filter((segment) => segment.text.trim() !== "")
      .map((segment) => ({ start: segment.start, end: Math.max(segment.end, segment.start), lines: [segment.text.trim()] })),
  );
}
