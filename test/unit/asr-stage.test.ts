/**
 * The asr stage in-process, with a fake engine (named as such) that returns a transcript whose
 * coverage report still has speech without words: the task is not failed, and both the last
 * progress message and the stage summary say where that speech is.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import type { AsrEngine } from "../../core/app/engines/engine.js";
import type { EngineRegistry } from "../../core/app/engines/registry.js";
import { SophiaError, isSophiaError } from "../../core/app/errors.js";
import { createAsrStage } from "../../core/app/stages/asr.js";
import type { Task } from "../../core/app/task/model/schema.js";
import type { SpeechCoverage, Transcript } from "../../core/app/transcript.js";

const COVERAGE: SpeechCoverage = {
  speech_sec: 20,
  speech_with_words_sec: 17.5,
  speech_with_words_pct: 87.5,
  speech_regions: 3,
  retried: [{ start: 62, end: 64.5, words: 0, reason: "no_words", replaced: 0 }],
  uncovered: [{ start: 62, end: 64.5 }],
  word_repairs: { clamped: 0, reordered: 0, dropped_at_end: 1, widened: 0, early_start: 0 },
};

function fakeEngine(transcript: Transcript): AsrEngine {
  return {
    transcribe: () => Promise.resolve(transcript),
    align: () => Promise.reject(new Error("the fake engine does not align")),
    close: () => Promise.resolve(),
  } as unknown as AsrEngine;
}

test("speech left without words finishes the stage, and the summary and the last progress message say where it is", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-asr-stage-"));
  try {
    const media = path.join(dir, "talk.wav");
    writeFileSync(media, "");
    const transcript: Transcript = {
      media,
      duration_sec: 70,
      language: "en",
      spoken_language: "en",
      language_probability: null,
      model: "tiny.en",
      segments: [{ start: 1, end: 2, text: "Hello.", words: [{ text: "Hello.", start: 1, end: 2 }] }],
      coverage: COVERAGE,
    };
    const engines = { get: () => fakeEngine(transcript) } as unknown as EngineRegistry;
    const task = { pipeline: ["asr"], input: { media: "talk.wav" }, config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } } } as unknown as Task;
    const raw = { field: "output.raw_srt", path: path.join(dir, "raw.srt"), asWritten: "raw.srt" };
    const paths = { media, script: null, rawSrt: raw.path, raw, refinedSrt: path.join(dir, "refined.srt"), refined: [], tmpDir: dir, display: (absolute: string) => absolute, assertWritable: () => undefined };
    const messages: string[] = [];

    const result = await createAsrStage(engines).run({ task, paths, signal: new AbortController().signal, progress: (_fraction, msg) => messages.push(msg) });

    assert.deepEqual(result.summary.coverage, COVERAGE);
    assert.match(messages.at(-1) ?? "", /2\.5 s of speech without words at 0:01:02–0:01:04/);
    assert.match(readFileSync(paths.rawSrt, "utf8"), /Hello\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a media with no speech at all gives no cue for what Whisper itself doubted (its \"You\" in silence); one it was sure of stays", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-asr-silence-"));
  try {
    const media = path.join(dir, "silence.wav");
    writeFileSync(media, "");
    const silent: SpeechCoverage = { ...COVERAGE, speech_sec: 0, speech_with_words_sec: 0, speech_with_words_pct: 100, speech_regions: 0, retried: [], uncovered: [] };
    // What tiny.en heard in 60 s of digital silence (measured: spec §4.1), and one segment it was sure of.
    const you = (start: number, no_speech_prob: number) => ({ start, end: start + 1.4, text: " You", no_speech_prob, avg_logprob: -0.66, words: [{ text: " You", start, end: start + 1.4, probability: 0.1 }] });
    const transcript: Transcript = {
      media,
      duration_sec: 60,
      language: "en",
      spoken_language: "en",
      language_probability: null,
      model: "tiny.en",
      segments: [you(21.5, 0.95), you(46.5, 0.95), you(56.16, 0.94), { ...you(58, 0.1), text: " Sure." }],
      coverage: silent,
    };
    const engines = { get: () => fakeEngine(transcript) } as unknown as EngineRegistry;
    const task = { pipeline: ["asr"], input: { media: "silence.wav" }, config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } } } as unknown as Task;
    const raw = { field: "output.raw_srt", path: path.join(dir, "raw.srt"), asWritten: "raw.srt" };
    const paths = { media, script: null, rawSrt: raw.path, raw, refinedSrt: path.join(dir, "refined.srt"), refined: [], tmpDir: dir, display: (absolute: string) => absolute, assertWritable: () => undefined };

    const result = await createAsrStage(engines).run({ task, paths, signal: new AbortController().signal, progress: () => undefined });

    const cues = readFileSync(paths.rawSrt, "utf8");
    assert.doesNotMatch(cues, /You/);
    assert.match(cues, /Sure\./);
    assert.equal(result.summary.segments, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the raw SRT's write asks the task's paths where it lands, and writes nothing when they refuse", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-asr-stage-"));
  try {
    const media = path.join(dir, "talk.wav");
    writeFileSync(media, "");
    const transcript = { media, duration_sec: 2, language: "en", spoken_language: "en", language_probability: null, model: "tiny.en", segments: [{ start: 0, end: 1, text: "Hi.", words: [{ text: "Hi.", start: 0, end: 1 }] }] } as Transcript;
    const engines = { get: () => fakeEngine(transcript) } as unknown as EngineRegistry;
    const task = { pipeline: ["asr"], input: { media: "talk.wav" }, config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } } } as unknown as Task;
    const raw = { field: "output.raw_srt", path: path.join(dir, "raw.srt"), asWritten: "raw.srt" };
    const asked: string[] = [];
    const refuse = (destination: string) => {
      asked.push(destination);
      throw new SophiaError("output_reserved", "refused where it lands");
    };
    const paths = { media, script: null, rawSrt: raw.path, raw, refinedSrt: path.join(dir, "refined.srt"), refined: [], tmpDir: dir, display: (absolute: string) => absolute, assertWritable: refuse };
    await assert.rejects(createAsrStage(engines).run({ task, paths, signal: new AbortController().signal, progress: () => undefined }), (error) => isSophiaError(error, "output_reserved"));
    assert.deepEqual(asked, [path.join(realpathSync(dir), "raw.srt")]);
    assert.ok(!existsSync(raw.path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
