/**
 * Benchmark: many small files (issue 10, goal 4). Makes 20 espeak-ng clips of varied meeting text,
 * 5 to 15 s each, and times side by side in one run, each path on the same 20 files with tiny.en:
 *
 *  - cli: one `sophia-cli submit` with the 20 files, then one `sophia-cli run` (two Node starts);
 *    and the same with `run --concurrency 2` (two clips at once, a worker of one lane each);
 *  - api: openWorkspace().submit() for each file and one startRunner(), in this process (what the
 *    desktop app does: Node is already running);
 *  - wct2: whisper-ctranslate2 given the 20 files in one call, its defaults, `--output_format srt`.
 *
 * Sophia runs asr only (`refine: false`) for the fair comparison, since whisper-ctranslate2 writes
 * the engine's SRT and nothing more; the full pipeline (asr + refine) is timed too and printed as
 * its own rows. Each side uses its own defaults: Sophia's decoding defaults and its speech
 * coverage check, whisper-ctranslate2's. The paths alternate round by round so a shared machine's
 * load falls on all alike; medians and ratios to whisper-ctranslate2 are printed.
 *
 * whisper-ctranslate2 is a reference, not a dependency: it is `$WHISPER_CTRANSLATE2`, else
 * `whisper-ctranslate2` on the PATH; without it the Sophia rows are printed alone. Build first
 * (`npm run build`): the CLI runs dist/.
 *
 *   npm run bench:small-files          (SMALL_FILES_ROUNDS, default 3; SMALL_FILES_COUNT, default 20)
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openWorkspace } from "../core/app/index.js";
import { resolveSettings } from "../core/app/config.js";
import { FasterWhisperEngine } from "../core/app/engines/faster_whisper/engine.js";
import { readEvents, whisperConfig } from "../test/support/harness.js";
import { meetingSentences, seeded } from "./meeting_text.js";
import { median, sum } from "./stats.js";

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(PROJECT, "bin", "sophia-cli");
const ROUNDS = Number(process.env.SMALL_FILES_ROUNDS ?? 3);
const COUNT = Number(process.env.SMALL_FILES_COUNT ?? 20);
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const ENV = { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1" };

type PathName = "cli asr" | "api asr" | "cli asr, 2 at once" | "cli asr+refine" | "api asr+refine" | "whisper-ctranslate2";

interface Timing {
  wall_sec: number;
  /** CPU seconds (user + system) of this process and every child it waited for: steadier than wall time on a shared machine. */
  cpu_sec: number;
  /** From the events: first task.started to last task.completed, the stages' summed durations, and the asr stage's summed model load. */
  tasks_sec?: number;
  stages_sec?: number;
  model_load_sec?: number;
}

async function main(): Promise<void> {
  process.env.HF_HUB_OFFLINE = "1";
  if (!existsSync(path.join(PROJECT, "dist", "core", "app", "cli", "main.js"))) throw new Error("build first: npm run build (bin/sophia-cli runs dist/)");
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-small-"));
  try {
    const clips = makeClips(path.join(dir, "clips"));
    const seconds = clips.map(wavSeconds);
    process.stdout.write(`${clips.length} clips, ${Math.min(...seconds).toFixed(1)}–${Math.max(...seconds).toFixed(1)} s each, ${sum(seconds).toFixed(0)} s in all; tiny.en; ${ROUNDS} round(s)\n`);
    const wct2 = findWct2();
    const modelDir = await tinyEnDirectory();
    if (!wct2) process.stdout.write("whisper-ctranslate2 not found ($WHISPER_CTRANSLATE2 or PATH): Sophia's paths only\n");

    const paths: Record<PathName, (round: number) => Promise<Timing>> = {
      "cli asr": (round) => viaCli(path.join(dir, `cli-asr-${round}`), clips, false),
      "api asr": (round) => viaApi(path.join(dir, `api-asr-${round}`), clips, false),
      // Two clips at once, a worker and a lane each: what `run --concurrency 2` does with the second core.
      "cli asr, 2 at once": (round) => viaCli(path.join(dir, `cli-asr-c2-${round}`), clips, false, ["--concurrency", "2"]),
      "whisper-ctranslate2": (round) => viaWct2(wct2 as string, modelDir, path.join(dir, `wct2-${round}`), clips),
      "cli asr+refine": (round) => viaCli(path.join(dir, `cli-full-${round}`), clips, true),
      "api asr+refine": (round) => viaApi(path.join(dir, `api-full-${round}`), clips, true),
    };
    const order = (Object.keys(paths) as PathName[]).filter((name) => wct2 || name !== "whisper-ctranslate2");
    const timings = new Map<PathName, Timing[]>(order.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated each round: no path always runs first (cold page cache) or last.
      const turn = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      for (const name of turn) {
        const timing = await paths[name](round);
        timings.get(name)?.push(timing);
        process.stdout.write(`round ${round + 1}  ${name.padEnd(20)} ${timing.wall_sec.toFixed(2).padStart(6)} s${detail(timing)}\n`);
      }
    }

    const medianOf = (name: PathName, key: "wall_sec" | "cpu_sec") => median((timings.get(name) ?? []).map((t) => t[key]));
    process.stdout.write(`\nmedians over ${ROUNDS} round(s)${wct2 ? "; ratios to whisper-ctranslate2 (below 1: Sophia is faster)" : ""}:\n`);
    for (const name of order) {
      const [wall, cpu] = [medianOf(name, "wall_sec"), medianOf(name, "cpu_sec")];
      const ratios = wct2 ? `  wall ${(wall / medianOf("whisper-ctranslate2", "wall_sec")).toFixed(2)}×  cpu ${(cpu / medianOf("whisper-ctranslate2", "cpu_sec")).toFixed(2)}×` : "";
      process.stdout.write(`  ${name.padEnd(20)} wall ${wall.toFixed(2).padStart(6)} s  cpu ${cpu.toFixed(2).padStart(6)} s${ratios}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** COUNT clips of different meeting sentences, from 5 to 15 s long at espeak-ng's 160 words a minute. */
function makeClips(target: string): string[] {
  mkdirSync(target, { recursive: true });
  const random = seeded(42);
  return Array.from({ length: COUNT }, (_, k) => {
    // About 2.9 words a second once espeak-ng's pauses are counted; whole sentences, so the lengths only aim.
    const words = 2.9 * (5.5 + (9.5 * k) / Math.max(1, COUNT - 1));
    const sentences: string[] = [];
    for (let next = meetingSentences(1, random)[0] as string; count(sentences) < 2.9 * 5 || count([...sentences, next]) <= words; next = meetingSentences(1, random)[0] as string) sentences.push(next);
    const file = path.join(target, `clip${String(k + 1).padStart(2, "0")}.wav`);
    execFileSync("espeak-ng", ["-s", "160", "-w", file, sentences.join(" ")]);
    return file;
  });
}

function count(sentences: string[]): number {
  return sentences.length === 0 ? 0 : sentences.join(" ").split(" ").length;
}

function wavSeconds(file: string): number {
  const data = readFileSync(file);
  // espeak-ng writes a 44-byte header, 16-bit mono; its byte rate is at offset 28.
  return (data.length - 44) / data.readUInt32LE(28);
}

async function viaCli(root: string, clips: string[], refine: boolean, runArgs: string[] = []): Promise<Timing> {
  const workspace = path.join(root, "workspace");
  mkdirSync(root, { recursive: true });
  const cpu = cpuSeconds();
  const started = performance.now();
  await run(process.execPath, [CLI, "--workspace", workspace, "submit", ...clips, "--language", "en", ...(refine ? [] : ["--no-refine"])], root);
  await run(process.execPath, [CLI, "--workspace", workspace, "run", "--no-progress", ...runArgs], root);
  const wall = (performance.now() - started) / 1000;
  return { wall_sec: wall, cpu_sec: cpuSeconds() - cpu, ...fromEvents(workspace, clips.length) };
}

async function viaApi(root: string, clips: string[], refine: boolean): Promise<Timing> {
  const dir = path.join(root, "workspace");
  mkdirSync(dir, { recursive: true });
  const cpu = cpuSeconds();
  const started = performance.now();
  const workspace = openWorkspace({ workspace: dir });
  for (const media of clips) await workspace.submit({ media, language: "en", refine });
  const results = await workspace.startRunner({}).done;
  const wall = (performance.now() - started) / 1000;
  const notDone = results.filter((result) => result.outcome !== "done");
  if (notDone.length > 0 || results.length !== clips.length) throw new Error(`api: ${results.length} results, not done: ${JSON.stringify(notDone)}`);
  return { wall_sec: wall, cpu_sec: cpuSeconds() - cpu, ...fromEvents(dir, clips.length) };
}

async function viaWct2(wct2: string, modelDir: string, out: string, clips: string[]): Promise<Timing> {
  mkdirSync(out, { recursive: true });
  const cpu = cpuSeconds();
  const started = performance.now();
  await run(wct2, ["--model_directory", modelDir, "--local_files_only", "True", "--output_format", "srt", "--output_dir", out, "--verbose", "False", ...clips], out);
  const wall = (performance.now() - started) / 1000;
  const written = readdirSync(out).filter((name) => name.endsWith(".srt")).length;
  if (written !== clips.length) throw new Error(`whisper-ctranslate2 wrote ${written} SRT files for ${clips.length} clips`);
  return { wall_sec: wall, cpu_sec: cpuSeconds() - cpu };
}

function fromEvents(workspace: string, count: number): Omit<Timing, "wall_sec" | "cpu_sec"> {
  const events = readEvents({ root: path.dirname(workspace), dir: workspace, tasksDir: "", inbox: "" });
  const at = (type: string) => events.filter((event) => event.type === type).map((event) => Date.parse(event.ts));
  const completed = at("task.completed");
  if (completed.length !== count) throw new Error(`${workspace}: ${completed.length} of ${count} tasks completed`);
  const loads = events.flatMap((event) => (event.type === "stage.completed" && event.payload.stage === "asr" ? [Number(event.payload.summary.model_load_sec ?? 0)] : []));
  const stages = events.flatMap((event) => (event.type === "stage.completed" ? [event.payload.duration_sec] : []));
  return { tasks_sec: (Math.max(...completed) - Math.min(...at("task.started"))) / 1000, stages_sec: sum(stages), model_load_sec: sum(loads) };
}

function detail(timing: Timing): string {
  const cpu = `  cpu ${timing.cpu_sec.toFixed(2).padStart(6)} s`;
  if (timing.tasks_sec === undefined) return cpu;
  return `${cpu}  (first start to last completion ${timing.tasks_sec.toFixed(2)} s, in stages ${timing.stages_sec?.toFixed(2)} s, model loads ${timing.model_load_sec?.toFixed(2)} s)`;
}

/** utime + stime of this process and of its waited-for children, from /proc/self/stat (Linux). */
function cpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  // After the command name: state is field 3, so utime, stime, cutime, cstime (fields 14-17) are at 11-14.
  const ticks = [11, 12, 13, 14].reduce((total, k) => total + Number(fields[k]), 0);
  return ticks / CLOCK_TICKS;
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: ENV, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} ${args.slice(0, 4).join(" ")} … exited ${code}: ${stderr}`))));
  });
}

function findWct2(): string | null {
  if (process.env.WHISPER_CTRANSLATE2) return process.env.WHISPER_CTRANSLATE2;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "whisper-ctranslate2");
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Where Sophia finds tiny.en: whisper-ctranslate2 gets the same directory. */
async function tinyEnDirectory(): Promise<string> {
  const engine = new FasterWhisperEngine({ python: resolveSettings().python, maxWorkers: 1 });
  try {
    const model = await engine.check(whisperConfig("tiny.en"));
    if (!model.path) throw new Error("tiny.en has no local directory");
    return model.path;
  } finally {
    await engine.close();
  }
}



void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
