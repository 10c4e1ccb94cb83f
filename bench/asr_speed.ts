/**
 * The ASR side of the refine benchmark: transcribes about two minutes of espeak-ng speech with the
 * real engine and bundled tiny.en (model already loaded, so the figure is decoding speed), and
 * reports the real-time factor (processing seconds per media second).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { resolveSettings } from "../core/app/config.js";
import { FasterWhisperEngine } from "../core/app/engines/faster_whisper/engine.js";
import { whisperConfig } from "../test/support/harness.js";
import { meetingSentences, seeded } from "./meeting_text.js";

export interface AsrSpeed {
  media_sec: number;
  asr_sec: number;
  /** asr_sec / media_sec */
  real_time_factor: number;
}

/** About two minutes of varied speech: repeated text would make Whisper fall back to slower decoding. */
const TEXT = meetingSentences(20, seeded(7)).join(" ");

export async function measureAsrSpeed(): Promise<AsrSpeed> {
  process.env.HF_HUB_OFFLINE = "1";
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-"));
  const engine = new FasterWhisperEngine({ python: resolveSettings().python, maxWorkers: 1 });
  try {
    const warmup = path.join(dir, "warmup.wav");
    const media = path.join(dir, "speech.wav");
    execFileSync("espeak-ng", ["-w", warmup, "Loading the model first."]);
    execFileSync("espeak-ng", ["-s", "160", "-w", media, TEXT]);
    const controls = { signal: new AbortController().signal, onProgress: () => undefined };
    await engine.transcribe({ media: warmup, config: whisperConfig("tiny.en") }, controls);
    const started = performance.now();
    const transcript = await engine.transcribe({ media, config: whisperConfig("tiny.en") }, controls);
    const asrSec = (performance.now() - started) / 1000;
    return { media_sec: transcript.duration_sec, asr_sec: asrSec, real_time_factor: asrSec / transcript.duration_sec };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
