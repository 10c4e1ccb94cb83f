/**
 * Benchmark: bounded memory on long media (issue 10, goal 3: a 2-hour file's asr peaks at ≤ 600 MB
 * with tiny.en). Builds an MP3 of the given length in a temp folder (the English corpus readings and
 * two minutes of espeak-ng speech, repeated with short pauses; bench/long_media.py), then runs, one
 * after the other in the same run:
 *
 *  - Sophia: the real CLI, `submit --no-refine` then `run`, watching the peak RSS of the worker
 *    and of the whole process tree (bench/process_memory.ts);
 *  - faster-whisper alone (bench/bare_transcribe.py) on the same file, model and decoding options.
 *
 * It prints both peaks, their ratio and the wall times. tiny.en on a loaded 2-core machine takes
 * several minutes per hour of audio, per side; `--concurrent` runs the two sides at the same time
 * (the peaks are each process's own, so they do not change; the wall times then mean little).
 * `--sophia-only` skips faster-whisper alone: at 2 hours it holds the whole waveform and its
 * features (it passed 5.1 GB before being stopped), so only Sophia's side is worth an hour of CPU.
 *
 *   npm run --silent build && npm run bench:memory                # 120 minutes
 *   npm run bench:memory -- --minutes 20                          # a quicker run
 *   npm run bench:memory -- --minutes 120 --sophia-only           # Sophia's side alone
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { resolveFasterWhisperConfig, workerOptions } from "../core/app/engines/faster_whisper/options.js";
import { bundledModelDir, collect, makeWorkspace, PROJECT, startCli, VENV_PYTHON } from "../test/support/harness.js";
import { CORPUS } from "../test/support/corpus.js";
import { meetingSentences, seeded } from "./meeting_text.js";
import { watchMemory, type TreeMemory } from "./process_memory.js";

/** The goal is 600 MB (10^6 bytes); figures are printed in MiB, as the baseline is. */
const GOAL_MIB = 600e6 / 2 ** 20;
const { values } = parseArgs({ options: { minutes: { type: "string", default: "120" }, concurrent: { type: "boolean", default: false }, "sophia-only": { type: "boolean", default: false } } });
const MINUTES = Number(values.minutes);
if (!(MINUTES > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);

interface Side {
  memory: TreeMemory;
  /** The Python process that transcribed: Sophia's worker, or the bare script. */
  pythonPeakMiB: number;
  wallSec: number;
  words: number;
}

const env = { ...process.env, HF_HUB_OFFLINE: "1" };
const ENGINE = resolveFasterWhisperConfig({ type: "faster_whisper", model: "tiny.en", language: "en" });

function buildMedia(dir: string): string {
  const espeak = path.join(dir, "espeak.wav");
  execFileSync("espeak-ng", ["-s", "160", "-w", espeak, meetingSentences(20, seeded(7)).join(" ")]);
  const media = path.join(dir, `long-${MINUTES}min.mp3`);
  const sources = [path.join(CORPUS, "sonnet002.mp3"), espeak, path.join(CORPUS, "sonnet003.mp3")];
  execFileSync(VENV_PYTHON, [path.join(PROJECT, "bench", "long_media.py"), media, String(MINUTES), ...sources], { env, stdio: ["ignore", "ignore", "inherit"] });
  return media;
}

function pythonPeak(memory: TreeMemory): number {
  return Math.max(0, ...memory.processes.filter((process) => /python/.test(process.command)).map((process) => process.peakMiB));
}

async function sophia(media: string): Promise<Side> {
  const ws = makeWorkspace();
  try {
    const submitted = await collect(startCli(ws, ["submit", media, "--no-refine", "--model", ENGINE.model, "--language", "en"]));
    if (submitted.code !== 0) throw new Error(`submit failed: ${submitted.stderr}`);
    const started = performance.now();
    const child = startCli(ws, ["run", "--no-progress"]);
    const watch = watchMemory(child.pid as number);
    const result = await collect(child, 6 * 3600_000);
    const memory = watch.stop();
    if (result.code !== 0) throw new Error(`run failed: ${result.stderr}`);
    const raw = readdirSync(path.join(ws.dir, "outputs", "subtitles", "raw")).map((name) => readFileSync(path.join(ws.dir, "outputs", "subtitles", "raw", name), "utf8"));
    const words = raw.join("\n").split("\n").filter((line) => line && !/^\d+$/.test(line) && !line.includes("-->")).join(" ").split(/\s+/).filter(Boolean).length;
    return { memory, pythonPeakMiB: pythonPeak(memory), wallSec: (performance.now() - started) / 1000, words };
  } finally {
    rmSync(ws.root, { recursive: true, force: true });
  }
}

async function bare(media: string): Promise<Side> {
  const started = performance.now();
  const child = spawn(VENV_PYTHON, [path.join(PROJECT, "bench", "bare_transcribe.py"), media, bundledModelDir(), JSON.stringify(workerOptions(ENGINE))], { env, stdio: ["ignore", "pipe", "inherit"] });
  const watch = watchMemory(child.pid as number);
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const memory = watch.stop();
  if (code !== 0) throw new Error(`bare faster-whisper failed (exit ${code})`);
  const { words } = JSON.parse(stdout) as { words: number };
  return { memory, pythonPeakMiB: pythonPeak(memory), wallSec: (performance.now() - started) / 1000, words };
}

const mib = (value: number) => `${value.toFixed(0)} MiB`;

function printRows(rows: { run: string; peak: number; wall: number; words: number }[]): void {
  for (const row of rows) process.stdout.write(`  ${row.run.padEnd(36)} peak RSS ${mib(row.peak).padStart(9)}   wall ${row.wall.toFixed(0).padStart(5)} s   words ${row.words}\n`);
}

function printGoal(ours: Side): void {
  process.stdout.write(`  goal, peak ≤ 600 MB (${mib(GOAL_MIB)}): worker ${ours.pythonPeakMiB <= GOAL_MIB ? "met" : "NOT met"}, CLI + worker ${ours.memory.treePeakMiB <= GOAL_MIB ? "met" : "NOT met"}\n`);
  process.stdout.write(`  load average at the end (1, 5, 15 min): ${loadavg().map((value) => value.toFixed(2)).join(", ")}\n`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-memory-"));
  try {
    process.stdout.write(`building ${MINUTES} min of speech (MP3, 16 kHz mono)…\n`);
    const media = buildMedia(dir);
    process.stdout.write(`engine options: ${JSON.stringify(workerOptions(ENGINE))}\n`);
    const report = {
      ours: (side: Side) => process.stdout.write(`Sophia: worker peak ${mib(side.pythonPeakMiB)}, process tree peak ${mib(side.memory.treePeakMiB)} (sampled), ${side.wallSec.toFixed(0)} s, ${side.words} words\n`),
      theirs: (side: Side) => process.stdout.write(`faster-whisper alone: peak ${mib(side.pythonPeakMiB)}, ${side.wallSec.toFixed(0)} s, ${side.words} words\n`),
    };
    if (values["sophia-only"]) {
      process.stdout.write("Sophia alone (submit --no-refine, then run)…\n");
      const ours = await sophia(media);
      report.ours(ours);
      process.stdout.write(`\n${MINUTES} min of audio, tiny.en\n`);
      printRows([
        { run: "Sophia asr (worker)", peak: ours.pythonPeakMiB, wall: ours.wallSec, words: ours.words },
        { run: "Sophia asr (CLI + worker, sampled)", peak: ours.memory.treePeakMiB, wall: ours.wallSec, words: ours.words },
      ]);
      printGoal(ours);
      return;
    }
    process.stdout.write(`Sophia (submit --no-refine, then run) and faster-whisper alone, ${values.concurrent ? "at the same time" : "one after the other"}…\n`);
    let ours: Side;
    let theirs: Side;
    if (values.concurrent) {
      [ours, theirs] = await Promise.all([sophia(media).then((side) => (report.ours(side), side)), bare(media).then((side) => (report.theirs(side), side))]);
    } else {
      ours = await sophia(media);
      report.ours(ours);
      theirs = await bare(media);
      report.theirs(theirs);
    }
    process.stdout.write(`\n${MINUTES} min of audio, tiny.en\n`);
    printRows([
      { run: "Sophia asr (worker)", peak: ours.pythonPeakMiB, wall: ours.wallSec, words: ours.words },
      { run: "Sophia asr (CLI + worker, sampled)", peak: ours.memory.treePeakMiB, wall: ours.wallSec, words: ours.words },
      { run: "faster-whisper alone", peak: theirs.pythonPeakMiB, wall: theirs.wallSec, words: theirs.words },
    ]);
    process.stdout.write(`  peak ratio Sophia worker / faster-whisper alone: ${(ours.pythonPeakMiB / theirs.pythonPeakMiB).toFixed(2)}×; CLI + worker / alone: ${(ours.memory.treePeakMiB / theirs.pythonPeakMiB).toFixed(2)}×\n`);
    process.stdout.write(`  wall ratio Sophia / faster-whisper alone: ${(ours.wallSec / theirs.wallSec).toFixed(2)}×${values.concurrent ? " (run at the same time: indicative only)" : ""}\n`);
    printGoal(ours);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
