/**
 * A real Ray cluster on this machine for the cluster tests: a head with no CPUs for work (it plays the
 * runner's node, as `ray start --num-cpus 0` in the docs) and work nodes of one CPU each, each `ray start`
 * in a process group of its own with the cluster's own temp dir and ports. Stopping ends exactly those
 * process groups and the workers their raylets started, never other clusters on the machine (no `ray stop`).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { resolveSettings } from "../../core/app/config.js";

export interface RayNode {
  /** The process group of its `ray start` and of every process the node runs but its workers. */
  pgid: number;
}

export interface RayCluster {
  /** host:port of the head's GCS, what `--cluster` takes. */
  address: string;
  /**
   * What a runner on this machine needs in its environment to join: Ray's token authentication, on
   * with a token of this cluster's own (as the docs tell a studio to run it), so that no token file
   * in ~/.ray decides it.
   */
  env: Record<string, string>;
  head: RayNode;
  workNodes: RayNode[];
  /** Ends one node's processes and the workers (actors) its raylet started. */
  killNode(node: RayNode): void;
  /** The work node the process `pid` (an actor) runs on, by its raylet's process group. */
  nodeOf(pid: number): RayNode | undefined;
  stop(): void;
}

/** The `ray` command of the engine's venv (./scripts/setup --cluster installs it). */
export function rayCommand(): string {
  return path.join(path.dirname(resolveSettings().python), "ray");
}

/** True when Ray is installed in the engine's venv. */
export function rayInstalled(): boolean {
  try {
    execFileSync(resolveSettings().python, ["-c", "import ray"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const COMMON = ["--disable-usage-stats", "--object-store-memory", String(200 * 1024 * 1024)];

/**
 * Starts the head, then the work nodes one after the other (two `ray start` at once time out on two
 * busy cores). About 10 s per node here.
 */
export async function startRayCluster(workNodes = 2): Promise<RayCluster> {
  const tempDir = mkdtempSync(path.join(tmpdir(), "sophia-ray-"));
  const env = { RAY_AUTH_MODE: "token", RAY_AUTH_TOKEN: randomBytes(32).toString("hex") };
  const nodeEnv = { ...process.env, HF_HUB_OFFLINE: "1", RAY_USAGE_STATS_ENABLED: "0", ...env };
  const nodes: RayNode[] = [];
  const cluster: Partial<RayCluster> = {};
  const stop = () => {
    killGroups(nodes.map((node) => node.pgid));
    rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    const [gcsPort, dashboardPort, agentPort] = await freePorts(3);
    const head = await rayStart(nodeEnv, ["--head", "--num-cpus", "0", "--port", String(gcsPort), "--dashboard-port", String(dashboardPort), "--dashboard-agent-listen-port", String(agentPort), "--include-dashboard", "false", "--temp-dir", tempDir]);
    nodes.push(head);
    const address = `127.0.0.1:${gcsPort}`;
    const workers: RayNode[] = [];
    for (let k = 0; k < workNodes; k++) {
      const [port] = await freePorts(1);
      const node = await rayStart(nodeEnv, ["--address", address, "--num-cpus", "1", "--dashboard-agent-listen-port", String(port)]);
      nodes.push(node);
      workers.push(node);
    }
    Object.assign(cluster, {
      address,
      env,
      head,
      workNodes: workers,
      killNode: (node: RayNode) => killGroups([node.pgid]),
      nodeOf: (pid: number) => workers.find((node) => node.pgid === processGroupOf(parentOf(pid))),
      stop,
    });
    return cluster as RayCluster;
  } catch (error) {
    stop();
    throw error;
  }
}

async function rayStart(env: NodeJS.ProcessEnv, args: string[]): Promise<RayNode> {
  // detached: a process group of its own, which the node's daemons inherit (ray start returns once they run).
  const child = spawn(rayCommand(), ["start", ...args, ...COMMON], { env, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const pgid = child.pid ?? -1;
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) {
    killGroups([pgid]);
    throw new Error(`ray start ${args.join(" ")} failed (exit ${code}):\n${stderr}`);
  }
  return { pgid };
}

/** SIGKILL to each group and to the children of its processes (Ray's workers start sessions of their own). */
function killGroups(pgids: number[]): void {
  const table = processTable();
  const doomed = new Set(table.filter((row) => pgids.includes(row.pgid)).map((row) => row.pid));
  for (const row of table) if (doomed.has(row.ppid)) doomed.add(row.pid);
  for (const pgid of pgids) signal(-pgid);
  for (const pid of doomed) signal(pid);
}

function signal(target: number): void {
  try {
    process.kill(target, "SIGKILL");
  } catch {
    // already gone
  }
}

function processTable(): { pid: number; ppid: number; pgid: number }[] {
  return execFileSync("ps", ["-eo", "pid=,ppid=,pgid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .map(([pid = 0, ppid = 0, pgid = 0]) => ({ pid, ppid, pgid }));
}

function parentOf(pid: number): number {
  return processTable().find((row) => row.pid === pid)?.ppid ?? -1;
}

function processGroupOf(pid: number): number {
  return processTable().find((row) => row.pid === pid)?.pgid ?? -1;
}

/** Pids of the processes whose command line starts with `prefix` (Ray names an actor's process `ray::Class.method`). */
export function pidsNamed(prefix: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.split(/\s+/, 2)[1]?.startsWith(prefix))
    .map((line) => Number(line.split(/\s+/, 1)[0]));
}

export async function waitForPid(prefix: string, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const [pid] = pidsNamed(prefix);
    if (pid !== undefined) return pid;
    await sleep(100);
  }
  throw new Error(`no process named ${prefix}* within ${timeoutMs} ms`);
}

function freePorts(count: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            const port = typeof address === "object" && address ? address.port : 0;
            server.close(() => resolve(port));
          });
        }),
    ),
  );
}
