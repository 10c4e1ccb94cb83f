/**
 * Benchmark: the engine on a Ray cluster (issue 21) against the local runner, side by side on this
 * machine. Makes 20 espeak-ng clips (5 to 15 s of meeting text), starts a local Ray cluster like the
 * tests' (a head with no CPUs, as the runner's node, and two work nodes of one CPU each), and times:
 *
 *  - local: `sophia-cli run --concurrency 2` (two workers of one lane each, on this machine's cores);
 *  - cluster: `sophia-cli run --concurrency 2 --cluster <head>` (two actors, one on each work node);
 *  - one clip alone, each way: the per-task overhead of the cluster (driver connect, actor start,
 *    media through the object store), the model load included in both;
 *  - the object store: ray.put of a file's bytes on the runner's node and its copy into a
 *    temporary file by an actor on a work node (what cluster/media.py does), seconds per MB.
 *
 * Both nodes share this machine's two cores with the runner, so the cluster cannot be faster here:
 * the figures are the cluster's overhead, not its scale (spec §4.2 models scale on paper). The full
 * pipeline (asr + refine); refine stays on the runner either way, and its stage time per clip (from
 * the events) is the runner's share in the scale model. Rounds alternate the two ways.
 *
 *   npm run bench:cluster          (CLUSTER_ROUNDS, default 2; CLUSTER_COUNT, default 20)
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { resolveSettings } from "../core/app/config.js";
import { startRayCluster, type RayCluster } from "../test/support/ray_cluster.js";
import { meetingSentences, seeded } from "./meeting_text.js";
import { median, sum } from "./stats.js";

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(PROJECT, "bin", "sophia-cli");
const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 2);
const COUNT = Number(process.env.CLUSTER_COUNT ?? 20);
const ENV = { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1" };

async function main(): Promise<void> {
  if (!existsSync(path.join(PROJECT, "dist", "core", "app", "cli", "main.js"))) throw new Error("build first: npm run build (bin/sophia-cli runs dist/)");
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-cluster-"));
  let cluster: RayCluster | null = null;
  try {
    const clips = makeClips(path.join(dir, "clips"));
    const audioSec = sum(clips.map(wavSeconds));
    cluster = await startRayCluster(2);
    const ways: Record<string, string[]> = { local: [], cluster: ["--cluster", cluster.address] };
    Object.assign(ENV, cluster.env);
    const batch: Record<string, number[]> = { local: [], cluster: [] };
    const stages: Record<string, { asr: number[]; refine: number[] }> = { local: { asr: [], refine: [] }, cluster: { asr: [], refine: [] } };
    const single: Record<string, number[]> = { local: [], cluster: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["local", "cluster"] : ["cluster", "local"];
      for (const way of order) {
        const args = ways[way] as string[];
        const root = path.join(dir, `r${round}-${way}-batch`);
        batch[way]?.push(await timedRun(root, clips, ["--concurrency", "2", ...args]));
        for (const stage of ["asr", "refine"] as const) stages[way]?.[stage].push(...stageSeconds(root, stage));
        single[way]?.push(await timedRun(path.join(dir, `r${round}-${way}-one`), clips.slice(0, 1), args));
        process.stderr.write(`round ${round + 1}/${ROUNDS} ${way}: ${COUNT} clips ${(batch[way]?.at(-1) ?? 0).toFixed(1)} s, one clip ${(single[way]?.at(-1) ?? 0).toFixed(1)} s\n`);
      }
    }
    const store = objectStoreCost(cluster.address, dir);
    const [local, remote] = [median(batch.local ?? []), median(batch.cluster ?? [])];
    const [oneLocal, oneRemote] = [median(single.local ?? []), median(single.cluster ?? [])];
    console.log(`${COUNT} clips, ${audioSec.toFixed(0)} s of audio, tiny.en, asr + refine, ${ROUNDS} rounds (medians), this machine: two cores shared by the runner and both nodes`);
    console.log(`| way | ${COUNT} clips, wall s | audio s per wall s | one clip, wall s |`);
    console.log(`|---|---|---|---|`);
    console.log(`| local, --concurrency 2 | ${local.toFixed(1)} | ${(audioSec / local).toFixed(2)} | ${oneLocal.toFixed(1)} |`);
    console.log(`| cluster (2 nodes × 1 CPU), --concurrency 2 | ${remote.toFixed(1)} | ${(audioSec / remote).toFixed(2)} | ${oneRemote.toFixed(1)} |`);
    console.log(`cluster / local, ${COUNT} clips: ${(remote / local).toFixed(2)}×; per-task overhead on the cluster: ${((remote - local) / COUNT).toFixed(2)} s a clip in the batch, ${(oneRemote - oneLocal).toFixed(1)} s for one clip alone (driver connect, actor start, model load on the node)`);
    for (const way of ["local", "cluster"]) console.log(`${way}: a clip's asr stage ${median(stages[way]?.asr ?? []).toFixed(2)} s, its refine stage ${median(stages[way]?.refine ?? []).toFixed(3)} s (medians, from the events)`);
    console.log(`object store: ${store.map(({ mb, sec }) => `${mb} MB in ${sec.toFixed(2)} s (${((sec / mb) * 1000).toFixed(1)} ms per MB)`).join(", ")}`);
  } finally {
    cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall seconds of `sophia-cli run` on a fresh workspace holding these clips, asr only. */
async function timedRun(root: string, clips: string[], runArgs: string[]): Promise<number> {
  const workspace = path.join(root, "workspace");
  mkdirSync(workspace, { recursive: true });
  execFileSync(CLI, ["--workspace", workspace, "submit", ...clips, "--model", "tiny.en", "--language", "en"], { env: ENV, stdio: "ignore" });
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(CLI, ["--workspace", workspace, "run", "--no-progress", ...runArgs], { env: ENV, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`run ${runArgs.join(" ")} exited ${code}: ${stderr}`))));
  });
  return (performance.now() - started) / 1000;
}

/** Each task's `duration_sec` for the stage, from the workspace's events. */
function stageSeconds(root: string, stage: string): number[] {
  const events = path.join(root, "workspace", "events");
  return readdirSync(events)
    .flatMap((name) => readFileSync(path.join(events, name), "utf8").split("\n"))
    .filter((line) => line.includes('"stage.completed"'))
    .map((line) => JSON.parse(line) as { payload: { stage: string; duration_sec: number } })
    .filter((event) => event.payload.stage === stage)
    .map((event) => event.payload.duration_sec);
}

/** Seconds to ship a file of each size through the object store to an actor on a work node, which writes it to a temporary file. */
function objectStoreCost(address: string, dir: string): { mb: number; sec: number }[] {
  const script = path.join(dir, "store_cost.py");
  writeFileSync(
    script,
    `import json, os, sys, time
sys.path.insert(0, ${JSON.stringify(path.join(PROJECT, "dist/core/app/engines/faster_whisper"))})
import ray
from cluster import driver, media
ray.init(address=sys.argv[1], logging_level="ERROR", runtime_env=driver.RUNTIME_ENV)

@ray.remote(num_cpus=1)
class Sink:
    def take(self, data, name):
        with media.materialized(data, name) as local:
            return os.path.getsize(local)

sink = Sink.remote()
ray.get(sink.take.remote(ray.put(b"warm"), "warm"))
rows = []
for mb in (1, 16, 64):
    path = os.path.join(sys.argv[2], f"{mb}.bin")
    with open(path, "wb") as out:
        out.write(os.urandom(mb * 1024 * 1024))
    started = time.monotonic()
    ref = media.put_media(path)
    assert ray.get(sink.take.remote(ref, path)) == mb * 1024 * 1024
    rows.append({"mb": mb, "sec": time.monotonic() - started})
    del ref
print(json.dumps(rows))
`,
  );
  const out = execFileSync(resolveSettings().python, [script, address, dir], { env: ENV, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").at(-1) ?? "[]") as { mb: number; sec: number }[];
}

function makeClips(target: string): string[] {
  mkdirSync(target, { recursive: true });
  const random = seeded(42);
  return Array.from({ length: COUNT }, (_, k) => {
    const sentences = meetingSentences(2 + (k % 4), random);
    const file = path.join(target, `clip${String(k + 1).padStart(2, "0")}.wav`);
    execFileSync("espeak-ng", ["-s", "160", "-w", file, sentences.join(" ")]);
    return file;
  });
}

function wavSeconds(file: string): number {
  const data = readFileSync(file);
  // espeak-ng writes a 44-byte header, 16-bit mono; its byte rate is at offset 28.
  return (data.length - 44) / data.readUInt32LE(28);
}

await main();
