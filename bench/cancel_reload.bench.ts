/**
 * Benchmark: the wait a cancel costs the next task (issue 10, goal 5). A cancel kills the engine's
 * worker (the only prompt way to stop CTranslate2 mid-decode); the engine then starts a replacement
 * at once that loads the same model (`replaceCanceled`, the default), where it used to leave the
 * next task to start a worker and load the model itself (`replaceCanceled: false`).
 *
 * Measured with the real engine and tiny.en, both ways side by side, alternating round by round:
 * a long transcription is aborted at its first progress, then the next request (a short clip) is
 * made at once (a queued task that starts right away) or after a gap (the user picks the next
 * file). Printed: the wait from the next request to its model being ready (what a cancel used
 * to cost it: a worker start and a model load), and the time from the abort to the next request's
 * first transcribed progress (that wait plus the gap plus decoding the clip's first window).
 *
 *   npm run bench:cancel-reload       (CANCEL_ROUNDS, default 3; CANCEL_GAPS_SEC, default 0,3,10)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { resolveSettings } from "../core/app/config.js";
import type { LoadedModel } from "../core/app/engines/engine.js";
import { FasterWhisperEngine } from "../core/app/engines/faster_whisper/engine.js";
import { whisperConfig } from "../test/support/harness.js";
import { meetingSentences, seeded } from "./meeting_text.js";
import { median } from "./stats.js";

const ROUNDS = Number(process.env.CANCEL_ROUNDS ?? 3);
/** Seconds between the abort and the next request: 0 is a queued task that starts at once; the others, a user picking the next file. */
const GAPS_SEC = (process.env.CANCEL_GAPS_SEC ?? "0,3,10").split(",").map(Number);
const CONFIG = whisperConfig("tiny.en", { language: "en" });

type Mode = "replacement" | "no replacement";
type Timing = { model_wait_sec: number; next_progress_sec: number; model: LoadedModel | null };

async function main(): Promise<void> {
  process.env.HF_HUB_OFFLINE = "1";
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-cancel-"));
  try {
    const long = path.join(dir, "long.wav");
    const short = path.join(dir, "short.wav");
    execFileSync("espeak-ng", ["-s", "160", "-w", long, meetingSentences(30, seeded(3)).join(" ")]);
    execFileSync("espeak-ng", ["-s", "160", "-w", short, meetingSentences(1, seeded(5)).join(" ")]);
    const results = new Map<string, Timing[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const modes: Mode[] = round % 2 === 0 ? ["replacement", "no replacement"] : ["no replacement", "replacement"];
      for (const mode of modes) {
        for (const gapSec of GAPS_SEC) {
          const timing = await cancelThenNext(mode, gapSec, long, short);
          const key = `${mode.padEnd(15)} next request ${gapName(gapSec)}`;
          results.set(key, [...(results.get(key) ?? []), timing]);
          const load = timing.model ? (timing.model.cached ? "model already loaded" : `model loaded in ${timing.model.load_sec.toFixed(2)} s`) : "";
          process.stdout.write(`round ${round + 1}  ${key.padEnd(40)} request → model ready ${timing.model_wait_sec.toFixed(2).padStart(6)} s  cancel → first progress ${timing.next_progress_sec.toFixed(2).padStart(6)} s  (${load})\n`);
        }
      }
    }
    process.stdout.write(`\nmedians over ${ROUNDS} round(s):\n`);
    for (const [key, timings] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
      const wait = median(timings.map((t) => t.model_wait_sec));
      process.stdout.write(`  ${key.padEnd(40)} request → model ready ${wait.toFixed(2).padStart(6)} s  cancel → first progress ${median(timings.map((t) => t.next_progress_sec)).toFixed(2).padStart(6)} s\n`);
    }
    for (const gap of GAPS_SEC.map(gapName)) {
      const of = (mode: Mode, key: "model_wait_sec" | "next_progress_sec") => median(results.get(`${mode.padEnd(15)} next request ${gap}`)?.map((t) => t[key]) ?? []);
      const ratio = (key: "model_wait_sec" | "next_progress_sec") => (of("replacement", key) / of("no replacement", key)).toFixed(2);
      process.stdout.write(`  next request ${gap}, with replacement / without: model wait ${ratio("model_wait_sec")}×, cancel → first progress ${ratio("next_progress_sec")}×\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gapName(gapSec: number): string {
  return gapSec === 0 ? "at once" : `after ${gapSec} s`;
}

/** A fresh engine with the model loaded; a long request aborted at its first progress; the short one timed from the abort. */
async function cancelThenNext(mode: Mode, gapSec: number, long: string, short: string): Promise<Timing> {
  const engine = new FasterWhisperEngine({ python: resolveSettings().python, maxWorkers: 1, replaceCanceled: mode === "replacement" });
  try {
    await engine.transcribe({ media: short, config: CONFIG }, { signal: new AbortController().signal, onProgress: () => undefined });
    const cancel = new AbortController();
    let canceledAt = 0;
    const first = engine.transcribe(
      { media: long, config: CONFIG },
      {
        signal: cancel.signal,
        onProgress: () => {
          if (canceledAt) return;
          canceledAt = performance.now();
          cancel.abort(new Error("canceled by the benchmark"));
        },
      },
    );
    await first.catch(() => undefined);
    if (gapSec > 0) await sleep(gapSec * 1000);
    let model: LoadedModel | null = null;
    let modelAt = 0;
    let progressAt = 0;
    const requestedAt = performance.now();
    await engine.transcribe(
      { media: short, config: CONFIG },
      {
        signal: new AbortController().signal,
        onModel: (loaded) => ((model = loaded), (modelAt = performance.now())),
        onProgress: () => (progressAt ||= performance.now()),
      },
    );
    return { model_wait_sec: (modelAt - requestedAt) / 1000, next_progress_sec: (progressAt - canceledAt) / 1000, model };
  } finally {
    await engine.close();
  }
}


void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
