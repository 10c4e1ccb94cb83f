/**
 * A watching runner's presence: `workspace/runners/<host>_<pid>.json`, written when `run --watch`
 * starts, its mtime refreshed every few seconds, removed when it stops. A runner executing a task
 * is told by the task's run lease; an idle watcher holds none, so without this `status` could not
 * show it. This module is the only writer and reader of runners/.
 */
import { readdir, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import type { Workspace } from "../task/model/workspace.js";
import { processGone } from "./runner_liveness.js";

/** How often the file is touched, and the age past which it is a runner that died without removing it. */
const REFRESH_MS = 5_000;
const STALE_MS = 30_000;

export interface PresentRunner {
  host: string;
  pid: number;
  started_at: string;
}

export class RunnerPresence {
  private readonly file: string;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly workspace: Workspace) {
    this.file = path.join(workspace.runnersDir, `${hostname()}_${process.pid}.json`);
  }

  async start(): Promise<void> {
    const me: PresentRunner = { host: hostname(), pid: process.pid, started_at: new Date().toISOString() };
    await writeFileAtomically(this.file, `${JSON.stringify(me)}\n`);
    const now = () => new Date();
    this.timer = setInterval(() => void utimes(this.file, now(), now()).catch(() => undefined), REFRESH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await rm(this.file, { force: true });
  }
}

/** The watching runners whose file is fresh and, on this host, whose process exists. */
export async function presentRunners(workspace: Workspace): Promise<PresentRunner[]> {
  const names = await readdir(workspace.runnersDir).catch(() => [] as string[]);
  const present: PresentRunner[] = [];
  for (const name of names.filter((entry) => entry.endsWith(".json"))) {
    const file = path.join(workspace.runnersDir, name);
    const info = await stat(file).catch(() => null);
    if (!info || Date.now() - info.mtimeMs > STALE_MS) continue;
    const runner = await readFile(file, "utf8").then((text) => JSON.parse(text) as PresentRunner).catch(() => null);
    if (!runner || typeof runner.host !== "string" || typeof runner.pid !== "number" || processGone({ host: runner.host, pid: runner.pid, started_at: runner.started_at })) continue;
    present.push(runner);
  }
  return present;
}
