/**
 * Every setting Sophia takes, resolved in one place: an explicit option (a CLI flag or a library
 * argument) wins over the environment, which wins over the default. Each setting is documented
 * once, here; the README's tables are copies of these comments.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SophiaError } from "./errors.js";

/**
 * The folder of this package: where it was installed or checked out. Found from this module's own
 * location (core/app/ in the source tree, dist/core/app/ once built), never from the current folder.
 */
export const PACKAGE_DIR = packageDir(path.dirname(fileURLToPath(import.meta.url)));

export const VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")) as { version: string }).version;

/** Written into the `tool` field of the task files Sophia creates. */
export const TOOL_NAME = `sophia-cli-v${VERSION}`;

export interface SophiaSettings {
  /**
   * The workspace folder (tasks/, events/, outputs/, models/).
   * @defaultValue `$SOPHIA_WORKSPACE`, else `./workspace` of the current folder
   */
  workspace?: string;
  /**
   * The Python interpreter of a venv with faster-whisper (what ./scripts/setup makes). An app that
   * bundles its own Python passes it here.
   * @defaultValue `$SOPHIA_PYTHON`, else `.venv/bin/python` (Windows: `.venv\Scripts\python.exe`) in the Sophia package folder
   */
  python?: string;
  /**
   * Keep every task's `outputs/_tmp/<task_id>/` for debugging.
   * @defaultValue `$SOPHIA_KEEP_TMP` is `1`, else false
   */
  keepTmp?: boolean;
  /**
   * Let faster-whisper download a model that is not available locally (never while HF_HUB_OFFLINE is set).
   * @defaultValue `$SOPHIA_ALLOW_MODEL_DOWNLOAD` is `1`, else false: a local-first tool does not download behind the user's back
   */
  allowModelDownload?: boolean;
  /**
   * Tasks a runner executes at once (one engine worker process each), 1 to LIMITS.concurrency.
   * @defaultValue 1
   */
  concurrency?: number;
  /**
   * Watch mode: seconds between safety-net rescans of the task folder, for filesystems that send no notifications; 1 to LIMITS.rescanIntervalSec.
   * @defaultValue 5
   */
  rescanIntervalSec?: number;
  /**
   * Keep what was read of each task file between passes, and the finished tasks' summaries in
   * tasks/.sophia-task-cache.json, so a pass reads only what changed. Off only to measure what the
   * caches save (bench:queue).
   * @defaultValue `$SOPHIA_TASK_CACHE` is not `off`, else true
   */
  taskCache?: boolean;
  /**
   * Run the speech work (transcription, alignment) on a Ray cluster: the address of its head
   * (`host:port`, Ray's port is 6379), or `auto` for the cluster this machine is a node of. The runner's
   * machine must be a node of the cluster (`ray start --address host:6379 --num-cpus 0`), and `ray` installed
   * (`./scripts/setup --cluster`). Task files, events and outputs stay with the runner; `concurrency` is
   * then the number of tasks in flight on the cluster.
   * @defaultValue `$SOPHIA_CLUSTER`, else none: the engine runs on this machine
   */
  cluster?: string | null;
  /**
   * With `cluster`: folders every node sees at the same path (a shared mount). Media under them is read
   * there by the node; other media travels through Ray's object store.
   * @defaultValue `$SOPHIA_CLUSTER_SHARED_PATHS`, folders separated by `path.delimiter` (`:`; Windows `;`), else none
   */
  clusterSharedPaths?: string[];
}

export type ResolvedSettings = Required<SophiaSettings>;

export const DEFAULTS = { workspace: "workspace", concurrency: 1, rescanIntervalSec: 5 } as const;

/**
 * Upper bounds, refused beyond. Each concurrent task runs its own engine process with its own model
 * in memory (and CTranslate2 threads of its own), so 32 is already more than any one machine can
 * use; a timer interval past 2^31 ms would fire at once, in a loop, so rescans stop at an hour.
 */
export const LIMITS = { concurrency: 32, rescanIntervalSec: 3600 } as const;

/** Settings with every gap filled; refuses (with the bad value quoted) a setting that cannot work. */
export function resolveSettings(given: SophiaSettings = {}, env: NodeJS.ProcessEnv = process.env): ResolvedSettings {
  const settings: ResolvedSettings = {
    workspace: path.resolve(given.workspace ?? nonEmpty(env.SOPHIA_WORKSPACE) ?? DEFAULTS.workspace),
    python: given.python ?? nonEmpty(env.SOPHIA_PYTHON) ?? venvPython(PACKAGE_DIR),
    keepTmp: given.keepTmp ?? env.SOPHIA_KEEP_TMP === "1",
    allowModelDownload: given.allowModelDownload ?? env.SOPHIA_ALLOW_MODEL_DOWNLOAD === "1",
    concurrency: given.concurrency ?? DEFAULTS.concurrency,
    rescanIntervalSec: given.rescanIntervalSec ?? DEFAULTS.rescanIntervalSec,
    taskCache: given.taskCache ?? env.SOPHIA_TASK_CACHE !== "off",
    cluster: given.cluster ?? nonEmpty(env.SOPHIA_CLUSTER) ?? null,
    clusterSharedPaths: (given.clusterSharedPaths ?? nonEmpty(env.SOPHIA_CLUSTER_SHARED_PATHS)?.split(path.delimiter) ?? []).filter((dir) => dir !== "").map((dir) => path.resolve(dir)),
  };
  if (settings.cluster !== null) assertClusterAddress(settings.cluster);
  assertWholeNumberUpTo("concurrency", settings.concurrency, LIMITS.concurrency);
  assertWholeNumberUpTo("rescanIntervalSec", settings.rescanIntervalSec, LIMITS.rescanIntervalSec);
  return settings;
}

/** The interpreter ./scripts/setup creates in `<dir>/.venv`. */
export function venvPython(dir: string): string {
  return process.platform === "win32" ? path.join(dir, ".venv", "Scripts", "python.exe") : path.join(dir, ".venv", "bin", "python");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function assertWholeNumberUpTo(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) throw new SophiaError("usage", `${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
}

/** `auto`, or host:port of the head: what ray.init takes for a driver on a node of the cluster (not a `ray://` client address). */
function assertClusterAddress(address: string): void {
  if (address === "auto" || /^[^\s:/]+:\d{1,5}$/.test(address)) return;
  throw new SophiaError("usage", `cluster must be "auto" or the host:port of the Ray head (such as head.local:6379), got ${JSON.stringify(address)}`);
}

function packageDir(moduleDir: string): string {
  const twoUp = path.resolve(moduleDir, "..", "..");
  return path.basename(twoUp) === "dist" ? path.dirname(twoUp) : twoUp;
}
