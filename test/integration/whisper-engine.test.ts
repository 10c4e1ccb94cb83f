/**
 * The real faster_whisper engine: worker.py in the project venv, the bundled tiny.en model,
 * espeak-ng speech, and no network (HF_HUB_OFFLINE=1).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { isSophiaError, SophiaError } from "../../core/app/errors.js";
import { resolveSettings } from "../../core/app/config.js";
import { FasterWhisperEngine } from "../../core/app/engines/faster_whisper/engine.js";
import { WhisperWorker } from "../../core/app/engines/faster_whisper/worker_process.js";
import type { LoadedModel, TranscribeControls } from "../../core/app/engines/engine.js";
import { TranscriptSchema } from "../../core/app/transcript.js";
import { transcriptWords } from "../support/timed_words.js";
import { CORPUS } from "../support/corpus.js";
import { LONG_TEXT, MAX_WER, SENTENCE, bundledModelDir, transcode, wer, whisperConfig } from "../support/harness.js";

const PYTHON = resolveSettings().python;
const OFFLINE = { HF_HUB_OFFLINE: "1" };

const dir = mkdtempSync(path.join(tmpdir(), "sophia-whisper-"));
const modelsDir = path.join(dir, "models");

function speak(name: string, text: string): string {
  const file = path.join(dir, name);
  execFileSync("espeak-ng", ["-s", "160", "-w", file, text]);
  return file;
}

function controls(overrides: Partial<TranscribeControls> = {}): TranscribeControls {
  return { signal: new AbortController().signal, onProgress: () => {}, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

describe("faster_whisper engine (real model, offline)", { timeout: 600_000 }, () => {
  let sentence: string;
  let engine: FasterWhisperEngine;

  before(() => {
    sentence = speak("sentence.wav", SENTENCE);
    mkdirSync(modelsDir);
    engine = new FasterWhisperEngine({ python: PYTHON, modelsDir, maxWorkers: 1, env: OFFLINE });
  });

  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("transcribes speech into timed words in order, then serves the next request from the loaded model", async (t) => {
    let started = performance.now();
    const worker = await WhisperWorker.start({ python: PYTHON, modelsDir, env: OFFLINE });
    const startSec = (performance.now() - started) / 1000;
    try {
      const models: LoadedModel[] = [];
      const progress: number[] = [];
      started = performance.now();
      const transcript = await worker.transcribe(
        { media: sentence, config: whisperConfig("tiny.en") },
        controls({ onModel: (m) => models.push(m), onProgress: (p) => progress.push(p.position_sec / p.duration_sec) }),
      );
      const firstSec = (performance.now() - started) / 1000;

      TranscriptSchema.parse(transcript);
      assert.equal(transcript.language, "en");
      assert.equal(transcript.language_probability, null, "an English-only model detects nothing");
      const words = transcriptWords(transcript);
      const text = words.map((w) => w.text).join(" ");
      const errorRate = wer(SENTENCE, text);
      assert.ok(errorRate <= MAX_WER, `WER ${errorRate.toFixed(3)} for "${text}"`);
      for (const [i, word] of words.entries()) {
        assert.ok(word.start <= word.end && word.end <= transcript.duration_sec, `word ${i} "${word.text}" ${word.start}-${word.end} outside 0-${transcript.duration_sec}`);
        if (i > 0) assert.ok(word.start >= (words[i - 1]?.start ?? 0), `word ${i} starts before the previous one`);
      }
      assert.ok(progress.length > 0 && progress.every((p) => p > 0 && p <= 1));
      assert.equal(models[0]?.cached, false);

      started = performance.now();
      await worker.transcribe({ media: sentence, config: whisperConfig("tiny.en") }, controls({ onModel: (m) => models.push(m) }));
      const secondSec = (performance.now() - started) / 1000;
      assert.equal(models[1]?.cached, true, "the second request reused the loaded model");
      assert.equal(models[1]?.path, models[0]?.path);

      t.diagnostic(`WER ${errorRate.toFixed(3)}: "${text}"`);
      t.diagnostic(
        `worker start ${startSec.toFixed(2)} s, model load ${models[0]?.load_sec.toFixed(2)} s, first request ${firstSec.toFixed(2)} s, second (cached) ${secondSec.toFixed(2)} s, media ${transcript.duration_sec.toFixed(2)} s`,
      );
    } finally {
      await worker.close();
    }
  });

  test("with lanes: 2 a reading longer than a window is shared out among two lanes: its words within two of one lane's, each word once, progress that only grows", async (t) => {
    const reading = path.join(CORPUS, "sonnet003.mp3");
    const text = readFileSync(path.join(CORPUS, "sonnet003.txt"), "utf8");
    const heard = async (lanes: number) => {
      const worker = await WhisperWorker.start({ python: PYTHON, modelsDir, env: OFFLINE });
      try {
        const models: LoadedModel[] = [];
        const positions: number[] = [];
        const transcript = await worker.transcribe({ media: reading, config: whisperConfig("tiny.en", { lanes }) }, controls({ onModel: (m) => models.push(m), onProgress: (p) => positions.push(p.position_sec) }));
        return { transcript, lanes: models[0]?.lanes, positions, words: transcriptWords(transcript) };
      } finally {
        await worker.close();
      }
    };
    const one = await heard(1);
    const two = await heard(2);
    assert.deepEqual([one.lanes, two.lanes], [1, 2]);
    const oneWer = wer(text, one.words.map((w) => w.text).join(" "));
    const twoWer = wer(text, two.words.map((w) => w.text).join(" "));
    t.diagnostic(`WER one lane ${oneWer.toFixed(3)}, two lanes ${twoWer.toFixed(3)}; words ${one.words.length} and ${two.words.length}`);
    // Two words of the 117 either way: the lanes move where Whisper's windows fall, nothing more.
    assert.ok(twoWer <= oneWer + 0.02, `two lanes WER ${twoWer.toFixed(3)} against one lane's ${oneWer.toFixed(3)}`);
    assert.equal(two.transcript.coverage?.speech_with_words_pct, 100, JSON.stringify(two.transcript.coverage?.uncovered));
    for (const [i, word] of two.words.entries()) {
      const before = two.words[i - 1];
      if (before) assert.ok(word.start >= before.start && !(word.text === before.text && word.start < before.end), `word ${i} "${word.text}" ${word.start}-${word.end} after "${before.text}" ${before.start}-${before.end}`);
    }
    assert.deepEqual(two.positions, [...two.positions].sort((a, b) => a - b), "progress only grows");
    assert.ok(two.positions.length > 0 && (two.positions.at(-1) ?? 0) <= two.transcript.duration_sec);
  });

  test("aligns given words on the audio: each inside its span, in order, where the speech says them", async () => {
    const transcript = await engine.transcribe({ media: sentence, config: whisperConfig("tiny.en") }, controls());
    const heard = transcriptWords(transcript);
    const at = heard.findIndex((word) => /^we$/i.test(word.text));
    const we = heard[at];
    assert.ok(we && at > 0, heard.map((word) => word.text).join(" "));
    // The second sentence, on the audio from the end of the first to the end of the file.
    const second = "We will start with a short review of the last quarter.".split(" ");
    const span = { start: heard[at - 1]?.end as number, end: transcript.duration_sec, words: second };
    const [aligned, empty] = await engine.align(
      { media: sentence, config: whisperConfig("tiny.en"), language: null, spans: [span, { start: 1, end: 1, words: ["nothing"] }] },
      { signal: new AbortController().signal },
    );
    assert.equal(empty, null, "a span without audio has no times");
    assert.equal(aligned?.length, second.length);
    aligned?.forEach((word, k) => {
      assert.ok(word.start >= span.start && word.end <= span.end && word.end >= word.start, JSON.stringify(word));
      if (k > 0) assert.ok(word.start >= (aligned[k - 1]?.start as number));
    });
    assert.ok(Math.abs((aligned?.[0]?.start as number) - we.start) < 0.3, `"We" aligned at ${aligned?.[0]?.start}, heard at ${we.start}`);
  });

  test("decodes compressed audio and the sound of video files (M4A, Ogg/Opus, MP4, MKV)", async () => {
    for (const extension of ["m4a", "ogg", "mp4", "mkv"]) {
      const compressed = transcode(sentence, path.join(dir, `sentence.${extension}`));
      const transcript = await engine.transcribe({ media: compressed, config: whisperConfig("tiny.en") }, controls());
      const errorRate = wer(SENTENCE, transcriptWords(transcript).map((w) => w.text).join(" "));
      assert.ok(errorRate <= MAX_WER, `${extension}: WER ${errorRate.toFixed(3)}`);
    }
  });

  test("batch_size above 1 decodes with faster-whisper's batched pipeline, and the other decoding options reach it", async () => {
    const options = { batch_size: 4, vad_filter: true, beam_size: 2, temperature: 0, initial_prompt: "A quarterly review.", hotwords: "quarter", language: "en" };
    const transcript = await engine.transcribe({ media: sentence, config: whisperConfig("tiny.en", options) }, controls());
    assert.ok(wer(SENTENCE, transcriptWords(transcript).map((w) => w.text).join(" ")) <= MAX_WER);
    assert.deepEqual([transcript.language, transcript.spoken_language, transcript.language_probability], ["en", "en", null], "a given language is not detected");
  });

  test("batched decoding keeps timed words and the speech coverage check across a silence the VAD cuts at", async () => {
    // SSML's break: three seconds of silence between two sentences, so the batched pipeline's VAD makes two chunks.
    const media = path.join(dir, "two-parts.wav");
    execFileSync("espeak-ng", ["-m", "-s", "160", "-w", media, `<speak>${SENTENCE}<break time="3000ms"/>The second part starts after a long pause.</speak>`]);
    const transcript = await engine.transcribe({ media, config: whisperConfig("tiny.en", { batch_size: 8, vad_filter: true }) }, controls());
    const words = transcriptWords(transcript);
    words.forEach((word, k) => {
      assert.ok(word.start < word.end && word.end <= transcript.duration_sec, `"${word.text}" at ${word.start}-${word.end}`);
      if (k > 0) assert.ok(word.start >= (words[k - 1]?.end as number), `"${word.text}" starts before the word before it ends`);
    });
    const second = words.find((word) => /^second/i.test(word.text));
    const last = words.findIndex((word) => /^quarter/i.test(word.text));
    assert.ok(second && last >= 0 && second.start - (words[last]?.end as number) > 2, `the pause is not between the words: ${words.map((w) => `${w.text}@${w.start}`).join(" ")}`);
    assert.equal(transcript.coverage?.speech_with_words_pct, 100, JSON.stringify(transcript.coverage));
    assert.deepEqual(transcript.coverage?.uncovered, []);
  });

  test("words are written words: a symbol Whisper emits on its own joins its number (\"12\" + \"%\" is \"12%\")", async () => {
    const media = speak("percent.wav", "We spent about twelve percent less than we expected, mostly because the London office moved.");
    const words = transcriptWords(await engine.transcribe({ media, config: whisperConfig("tiny.en") }, controls()));
    const loose = words.filter((word) => !/[\p{L}\p{N}]/u.test(word.text));
    assert.deepEqual(loose, [], `words without a letter or digit in: ${words.map((w) => w.text).join(" | ")}`);
    assert.ok(words.some((word) => /^12%/.test(word.text) || word.text === "twelve"), words.map((w) => w.text).join(" | "));
  });

  test("an unknown model fails fast with model_unavailable, naming it and how to provide it", async () => {
    const started = performance.now();
    const error = await rejection(engine.transcribe({ media: sentence, config: whisperConfig("medium") }, controls()));
    // Against a hang waiting for a download: a lookup takes a second or two, 30 s is over 10× that.
    assert.ok(performance.now() - started < 30_000, `took ${performance.now() - started} ms`);
    assert.ok(isSophiaError(error, "model_unavailable"), String(error));
    assert.match(error.message, /"medium"/);
    assert.ok(error.message.includes(path.join(modelsDir, "medium")), error.message);
  });

  test("media that is not audio is media_unreadable, naming the file", async () => {
    const notAudio = path.join(dir, "notes.wav");
    writeFileSync(notAudio, "these are meeting notes, not audio\n");
    const error = await rejection(engine.transcribe({ media: notAudio, config: whisperConfig("tiny.en") }, controls()));
    assert.ok(isSophiaError(error, "media_unreadable"), String(error));
    assert.ok(error.message.includes(notAudio), error.message);
    assert.equal(engine.size, 1, "a bad file does not cost the worker");
  });

  test("a name under SOPHIA_MODELS_DIR resolves, also through a symlink", async () => {
    symlinkSync(bundledModelDir(), path.join(modelsDir, "house-model"));
    const models: LoadedModel[] = [];
    const transcript = await engine.transcribe({ media: sentence, config: whisperConfig("house-model") }, controls({ onModel: (m) => models.push(m) }));
    assert.equal(models[0]?.source, "models_dir");
    assert.equal(transcript.model, "house-model");
    assert.ok(wer(SENTENCE, transcriptWords(transcript).map((w) => w.text).join(" ")) <= MAX_WER);
  });

  test("a model in the Hugging Face cache is found without the network", async () => {
    // The cache layout huggingface_hub writes: refs/main names the snapshot that holds the files.
    const repo = path.join(dir, "hf-cache", "models--Systran--faster-whisper-tiny");
    for (const sub of ["refs", "snapshots"]) mkdirSync(path.join(repo, sub), { recursive: true });
    writeFileSync(path.join(repo, "refs", "main"), "0123abcd");
    symlinkSync(bundledModelDir(), path.join(repo, "snapshots", "0123abcd"), "dir");
    const worker = await WhisperWorker.start({ python: PYTHON, env: { ...OFFLINE, HF_HUB_CACHE: path.join(dir, "hf-cache") } });
    try {
      const models: LoadedModel[] = [];
      await worker.transcribe({ media: sentence, config: whisperConfig("tiny") }, controls({ onModel: (m) => models.push(m) }));
      assert.equal(models[0]?.source, "hf_cache");
      assert.ok(models[0]?.path.startsWith(repo), models[0]?.path);
    } finally {
      await worker.close();
    }
  });

  test("a model directory without model.bin is model_unavailable, naming the missing file", async () => {
    const empty = path.join(dir, "half-copied-model");
    mkdirSync(empty);
    const error = await rejection(engine.transcribe({ media: sentence, config: whisperConfig(empty) }, controls()));
    assert.ok(isSophiaError(error, "model_unavailable"), String(error));
    assert.match(error.message, /model\.bin/);
  });

  test("abort stops a long transcription mid-decode promptly", async () => {
    const long = speak("long.wav", LONG_TEXT);
    const controller = new AbortController();
    let loaded = false;
    const running = engine.transcribe({ media: long, config: whisperConfig("tiny.en") }, controls({ signal: controller.signal, onModel: () => (loaded = true) }));
    // Segments arrive per 30 s window (~10 s of work here); half a second in, the model is mid-decode.
    while (!loaded) await sleep(20);
    await sleep(500);
    const reason = new SophiaError("canceled", "canceled by the user");
    const abortedAt = performance.now();
    controller.abort(reason);
    assert.equal(await rejection(running), reason);
    // 10× the second a cancel is promised in (spec §4.1), so a loaded machine never trips it.
    assert.ok(performance.now() - abortedAt < 10_000, `took ${Math.round(performance.now() - abortedAt)} ms`);
    assert.equal(engine.size, 0, "the aborted worker is gone");
  });
});
