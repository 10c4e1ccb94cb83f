/**
 * Benchmark: the bundled models side by side on the real speech corpus (../shared/corpus, or
 * $SOPHIA_CORPUS): word error rate against the text that was read, and real-time factor
 * (processing seconds per media second), for tiny.en and base, in one run.
 *
 * Each model has its own worker and is loaded before timing starts, so the figure is decoding
 * speed. The two models alternate file by file, so the load of a shared machine falls on both
 * alike; compare the ratio more than the absolute figures. tiny.en is English-only: on the German
 * and Spanish readings it is shown what it makes of them (English words), which is why the default
 * model must not be tiny.en when the language is not English.
 *
 *   npm run bench:models
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { resolveSettings } from "../core/app/config.js";
import { FasterWhisperEngine } from "../core/app/engines/faster_whisper/engine.js";
import { transcriptWords } from "../test/support/timed_words.js";
import { wer, whisperConfig } from "../test/support/harness.js";
import { CORPUS } from "../test/support/corpus.js";

const MODELS = ["tiny.en", "base"] as const;

interface Row {
  recording: string;
  model: string;
  media_sec: number;
  asr_sec: number;
  real_time_factor: number;
  wer: number;
  language: string | null;
  language_probability: number | null;
}

async function main(): Promise<void> {
  process.env.HF_HUB_OFFLINE = "1";
  const recordings = readdirSync(CORPUS)
    .filter((name) => name.endsWith(".mp3"))
    .sort();
  const engines = new Map(MODELS.map((model) => [model, new FasterWhisperEngine({ python: resolveSettings().python, maxWorkers: 1 })]));
  const controls = { signal: new AbortController().signal, onProgress: () => undefined };
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-models-"));
  const rows: Row[] = [];
  try {
    const warmup = path.join(dir, "warmup.wav");
    execFileSync("espeak-ng", ["-w", warmup, "Loading the model first."]);
    for (const [model, engine] of engines) await engine.transcribe({ media: warmup, config: whisperConfig(model) }, controls);

    for (const recording of recordings) {
      const media = path.join(CORPUS, recording);
      const reference = readFileSync(media.replace(/\.mp3$/, ".txt"), "utf8");
      for (const [model, engine] of engines) {
        const started = performance.now();
        // No language: what a task without one gets (tiny.en is English whatever it is told).
        const transcript = await engine.transcribe({ media, config: whisperConfig(model) }, controls);
        const asrSec = (performance.now() - started) / 1000;
        const heard = transcriptWords(transcript)
          .map((word) => word.text)
          .join(" ");
        const probability = transcript.language_probability;
        rows.push({
          recording,
          model,
          media_sec: transcript.duration_sec,
          asr_sec: asrSec,
          real_time_factor: asrSec / transcript.duration_sec,
          wer: wer(reference, heard),
          language: transcript.language,
          language_probability: probability,
        });
        const row = rows.at(-1) as Row;
        process.stdout.write(
          `${recording.padEnd(16)} ${model.padEnd(8)} media ${row.media_sec.toFixed(1).padStart(5)} s  asr ${row.asr_sec.toFixed(1).padStart(5)} s  RTF ${row.real_time_factor.toFixed(3)}  WER ${row.wer.toFixed(3)}  language ${row.language ?? "-"}${probability === null ? "" : ` (${probability.toFixed(2)})`}\n`,
        );
      }
    }
  } finally {
    await Promise.all([...engines.values()].map((engine) => engine.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  for (const model of MODELS) {
    const mine = rows.filter((row) => row.model === model);
    const media = mine.reduce((sum, row) => sum + row.media_sec, 0);
    const asr = mine.reduce((sum, row) => sum + row.asr_sec, 0);
    process.stdout.write(`${model.padEnd(8)} overall RTF ${(asr / media).toFixed(3)} over ${media.toFixed(0)} s\n`);
  }
  const rtf = (model: string) => {
    const mine = rows.filter((row) => row.model === model && row.recording.startsWith("sonnet"));
    return mine.reduce((sum, row) => sum + row.asr_sec, 0) / mine.reduce((sum, row) => sum + row.media_sec, 0);
  };
  process.stdout.write(`base / tiny.en time on the English recordings: ${(rtf("base") / rtf("tiny.en")).toFixed(2)}\n`);
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(rows)}\n`);
}

await main();
