/**
 * Benchmark: a queue whose cost is flat in its history (issue 10, goal 2). Builds workspaces in a
 * temp folder with HISTORY finished task files and measures, through the real CLI:
 *
 *  - `list` over the history: warm (the store's task cache file, tasks/.sophia-task-cache.json, is
 *    there) and cold (removed before each run, so every file is read and validated, as before the
 *    cache file), next to `list` of an empty workspace (Node's start-up);
 *  - a drain (`run`) of refine-only tasks on a small SRT: with the history beside them, without any
 *    history (a queue flat in its history drains as fast with it as without it), with the history and
 *    `--concurrency 4` (a task's own writes are fsynced: concurrency overlaps them), and with the
 *    history and no cache at all (SOPHIA_TASK_CACHE=off: every pass reads and validates every file,
 *    so that side drains only BASELINE_TASKS);
 *  - pickup latency in `run --watch`: a task file renamed into the folder → its `task.started`, with
 *    the history (with and without the cache) and without history.
 *
 *   npm run bench:queue            (QUEUE_HISTORY, QUEUE_TASKS, QUEUE_BASELINE_TASKS, QUEUE_PICKUPS override)
 */
import { execSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(PROJECT, "bin", "sophia-cli");
const HISTORY = Number(process.env.QUEUE_HISTORY ?? 10_000);
const TASKS = Number(process.env.QUEUE_TASKS ?? 1_000);
const BASELINE_TASKS = Number(process.env.QUEUE_BASELINE_TASKS ?? 10);
const PICKUPS = Number(process.env.QUEUE_PICKUPS ?? 10);
const GOALS = { listSec: 0.3, drainPerSec: 50, pickupP50Ms: 100 };

const SRT = ["1", "00:00:01,000 --> 00:00:03,000", "thank you for coming today", "", "2", "00:00:03,500 --> 00:00:06,000", "we will start with a short review of the last quarter", ""].join("\n");

type Mode = "cache" | "no cache";
const CONCURRENCY = 4;
const envOf = (mode: Mode): Record<string, string> => (mode === "cache" ? {} : { SOPHIA_TASK_CACHE: "off" });

interface Ws {
  root: string;
  dir: string;
  tasksDir: string;
}

function task(taskId: string, status: string, createdAt: string): Record<string, unknown> {
  return {
    task_id: taskId,
    run_id: `run_${taskId}`,
    created_at: createdAt,
    status,
    type: "transcription",
    requested_by: "user",
    tool: "bench",
    config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: true } },
    input: { media: "workspace/inbox/small.wav", script: null },
    pipeline: ["refine"],
    output: { raw_srt: "workspace/inbox/small.raw.srt", refined_srt: `workspace/outputs/${taskId}.refined.srt` },
    error: null,
    ...(status === "done" ? { attempts: 1, started_at: createdAt, finished_at: createdAt } : {}),
  };
}

const fileName = (taskId: string) => `20260206T103000Z_${taskId}.task.json`;
const write = (ws: Ws, body: Record<string, unknown>) => writeFileSync(path.join(ws.tasksDir, fileName(String(body.task_id))), `${JSON.stringify(body, null, 2)}\n`);

/**
 * A workspace with `history` finished task files, as old as a real history is: a file changed less
 * than 2.5 s ago is never cached by its stamp (the store's racy rule, spec §3.1), so without the wait
 * the first pass of each measurement would read the newest few thousand files of a history written
 * a moment before.
 */
async function workspace(history: number): Promise<Ws> {
  const root = mkdtempSync(path.join(tmpdir(), "sophia-queue-bench-"));
  const dir = path.join(root, "workspace");
  const ws = { root, dir, tasksDir: path.join(dir, "tasks") };
  mkdirSync(ws.tasksDir, { recursive: true });
  mkdirSync(path.join(dir, "outputs"), { recursive: true });
  mkdirSync(path.join(dir, "inbox"), { recursive: true });
  writeFileSync(path.join(dir, "inbox", "small.raw.srt"), SRT);
  writeFileSync(path.join(dir, "inbox", "small.wav"), "");
  for (let i = 0; i < history; i++) write(ws, task(`old_${String(i).padStart(5, "0")}`, "done", "2026-02-06T10:30:00Z"));
  if (history > 0) await sleep(RACY_WAIT_MS);
  return ws;
}

function runCli(ws: Ws, args: string[], env: Record<string, string>): Promise<{ code: number | null; sec: number; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "--workspace", ws.dir, ...args], { cwd: ws.root, env: { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1", ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, sec: (performance.now() - started) / 1000, stderr })));
}

interface Event {
  ts: string;
  type: string;
  task_id: string | null;
}

function events(ws: Ws): Event[] {
  const eventsDir = path.join(ws.dir, "events");
  if (!existsSync(eventsDir)) return [];
  return readdirSync(eventsDir)
    .filter((name) => name.endsWith("_events.jsonl"))
    .flatMap((name) => readFileSync(path.join(eventsDir, name), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Event));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CACHE_FILE = ".sophia-task-cache.json";
const RACY_WAIT_MS = 3_000;

/** Each `list` in turn: empty workspace (start-up), cold (no cache file), warm (the cache file the cold one wrote). */
async function measureList(ws: Ws, empty: Ws): Promise<{ warm: number; cold: number; startup: number }> {
  const warm: number[] = [];
  const cold: number[] = [];
  const startups: number[] = [];
  for (let i = 0; i < 3; i++) {
    startups.push((await runCli(empty, ["list"], {})).sec);
    rmSync(path.join(ws.tasksDir, CACHE_FILE), { force: true });
    cold.push((await runCli(ws, ["list"], {})).sec);
    if (!existsSync(path.join(ws.tasksDir, CACHE_FILE))) throw new Error("list wrote no task cache file");
    warm.push((await runCli(ws, ["list"], {})).sec);
  }
  return { warm: median(warm), cold: median(cold), startup: median(startups) };
}

interface Drain {
  wallPerSec: number;
  steadyPerSec: number;
}

async function measureDrain(mode: Mode, count: number, history: number, concurrency = 1): Promise<Drain> {
  const ws = await workspace(history);
  try {
    // As a runner that has run before finds it: the history in the task cache file.
    if (mode === "cache" && history > 0) await runCli(ws, ["list"], {});
    for (let i = 0; i < count; i++) write(ws, task(`q_${String(i).padStart(5, "0")}`, "queued", "2026-02-07T10:30:00Z"));
    const result = await runCli(ws, ["run", "--concurrency", String(concurrency)], envOf(mode));
    if (result.code !== 0) throw new Error(`run failed (${mode}): ${result.stderr.slice(-2000)}`);
    const log = events(ws);
    const done = log.filter((event) => event.type === "task.completed").length;
    if (done !== count) throw new Error(`${mode}: ${done} of ${count} tasks completed`);
    const started = log.filter((event) => event.type === "task.started").map((event) => Date.parse(event.ts));
    const ended = log.filter((event) => event.type === "task.completed").map((event) => Date.parse(event.ts));
    const steadySec = (Math.max(...ended) - Math.min(...started)) / 1000;
    return { wallPerSec: count / result.sec, steadyPerSec: count / steadySec };
  } finally {
    rmSync(ws.root, { recursive: true, force: true });
  }
}

async function measurePickup(mode: Mode, history: number): Promise<number[]> {
  const ws = await workspace(history);
  const child = spawn(process.execPath, [CLI, "--workspace", ws.dir, "run", "--watch"], { cwd: ws.root, env: { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1", ...envOf(mode) }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    while (!stderr.includes("watching")) {
      if (child.exitCode !== null) throw new Error(`run --watch exited: ${stderr}`);
      await sleep(50);
    }
    // Let the first pass over the history finish before timing anything.
    await sleep(3_000);
    const latencies: number[] = [];
    for (let i = 0; i < PICKUPS; i++) {
      const taskId = `w_${String(i).padStart(3, "0")}`;
      const staged = path.join(ws.dir, `${taskId}.staged`);
      writeFileSync(staged, `${JSON.stringify(task(taskId, "queued", "2026-02-07T10:30:00Z"), null, 2)}\n`);
      const dropped = Date.now();
      renameSync(staged, path.join(ws.tasksDir, fileName(taskId))); // as an app should: the file appears whole
      for (;;) {
        const log = events(ws).filter((event) => event.task_id === taskId);
        const startedAt = log.find((event) => event.type === "task.started");
        if (startedAt && log.some((event) => event.type === "task.completed" || event.type === "task.failed")) {
          latencies.push(Date.parse(startedAt.ts) - dropped);
          break;
        }
        if (Date.now() - dropped > 120_000) throw new Error(`${mode}: ${taskId} not picked up in 120 s: ${stderr.slice(-1000)}`);
        await sleep(10);
      }
    }
    return latencies;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("close", resolve));
    rmSync(ws.root, { recursive: true, force: true });
  }
}

const fmt = (value: number, digits = 2) => value.toFixed(digits);

async function main(): Promise<void> {
  console.log(`queue benchmark: ${HISTORY} finished task files in the folder; drain ${TASKS} refine-only tasks (${BASELINE_TASKS} without the cache); ${PICKUPS} pickups`);
  console.log(`load before: ${execSync("uptime").toString().trim()}`);
  const listWs = await workspace(HISTORY);
  const emptyWs = await workspace(0);
  let list: { warm: number; cold: number; startup: number };
  try {
    list = await measureList(listWs, emptyWs);
  } finally {
    rmSync(listWs.root, { recursive: true, force: true });
    rmSync(emptyWs.root, { recursive: true, force: true });
  }
  const drain = {
    history: await measureDrain("cache", TASKS, HISTORY),
    noHistory: await measureDrain("cache", TASKS, 0),
    concurrent: await measureDrain("cache", TASKS, HISTORY, CONCURRENCY),
    noCache: await measureDrain("no cache", BASELINE_TASKS, HISTORY),
  };
  const pickup = {
    history: median(await measurePickup("cache", HISTORY)),
    noHistory: median(await measurePickup("cache", 0)),
    noCache: median(await measurePickup("no cache", HISTORY)),
  };
  console.log(`load after: ${execSync("uptime").toString().trim()}`);
  const rate = (value: number) => fmt(value, 1);
  console.log("");
  console.log(`| figure | measured | compared with | ratio | goal | goal met (measured / goal, ≥ 1) |`);
  console.log("|---|---|---|---|---|---|");
  console.log(`| \`list\`, ${HISTORY} files, wall, warm (cache file) | ${fmt(list.warm)} s | cold (no cache file, every file read): ${fmt(list.cold)} s | ${fmt(list.cold / list.warm)}× faster | ${GOALS.listSec} s | ${fmt(GOALS.listSec / list.warm)} |`);
  console.log(`| \`list\` warm, minus Node's start-up (\`list\` of an empty workspace: ${fmt(list.startup)} s) | ${fmt(list.warm - list.startup)} s | cold minus start-up: ${fmt(list.cold - list.startup)} s | ${fmt((list.cold - list.startup) / (list.warm - list.startup))}× | ${GOALS.listSec} s | ${fmt(GOALS.listSec / (list.warm - list.startup))} |`);
  for (const [label, key] of [["whole `run`", "wallPerSec"], ["first start → last completion", "steadyPerSec"]] as const) {
    console.log(`| drain, tasks/s, ${label}, ${HISTORY} finished beside | ${rate(drain.history[key])} | no history: ${rate(drain.noHistory[key])}; no cache: ${rate(drain.noCache[key])} | ${fmt(drain.history[key] / drain.noHistory[key])} of no history; ${fmt(drain.history[key] / drain.noCache[key])}× no cache | ${GOALS.drainPerSec} | ${fmt(drain.history[key] / GOALS.drainPerSec)} |`);
    console.log(`| drain, tasks/s, ${label}, ${HISTORY} finished beside, \`--concurrency ${CONCURRENCY}\` | ${rate(drain.concurrent[key])} | concurrency 1: ${rate(drain.history[key])} | ${fmt(drain.concurrent[key] / drain.history[key])}× | ${GOALS.drainPerSec} | ${fmt(drain.concurrent[key] / GOALS.drainPerSec)} |`);
  }
  console.log(`| pickup latency p50, \`run --watch\`, ${HISTORY} finished beside | ${fmt(pickup.history, 0)} ms | no history: ${fmt(pickup.noHistory, 0)} ms; no cache: ${fmt(pickup.noCache, 0)} ms | ${fmt(pickup.history / pickup.noHistory)} of no history; ${fmt(pickup.noCache / pickup.history)}× faster than no cache | ${GOALS.pickupP50Ms} ms | ${fmt(GOALS.pickupP50Ms / pickup.history)} |`);
}

await main();
