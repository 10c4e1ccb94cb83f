/**
 * openWorkspace(): the library's front door. Everything an app (or the CLI) does with a workspace
 * goes through the object it returns; the task system underneath keeps its one owner per file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { resolveSettings, type SophiaSettings } from "./config.js";
import type { EngineRegistry } from "./engines/registry.js";
import type { CancelResult, LiveRunner, SophiaWorkspace, SubmitOptions, TaskInfo, TaskListEntry, WorkspaceStatus } from "./interfaces.js";
import type { EventWriter } from "./task/events/event_writer.js";
import { SophiaError } from "./errors.js";
import { TASK_STATUSES, isFinished, type TaskStatus } from "./task/model/task_status.js";
import type { StoredTask } from "./task/model/stored_task.js";
import { summaryOf } from "./task/store/folder_index.js";
import { TaskStore } from "./task/store/store.js";
import { Workspace } from "./task/model/workspace.js";
import { runnerState } from "./runner/runner_liveness.js";
import type { TaskProgress } from "./interfaces.js";
import { startRunner } from "./start_runner.js";

/**
 * Opens the workspace at `settings.workspace` (else $SOPHIA_WORKSPACE, else ./workspace). Nothing is
 * created until a task is submitted or a runner starts; `exists` says whether the folder is there yet.
 */
export function openWorkspace(settings: SophiaSettings = {}): SophiaWorkspace & { readonly exists: boolean } {
  const resolved = resolveSettings(settings);
  const workspace = new Workspace(resolved.workspace);
  const store = new TaskStore(workspace, { taskCache: resolved.taskCache });
  // What only some calls need is loaded on first use: `list` needs neither the engines, the runner
  // nor the event schema, and loading them is most of what a one-shot `list` would cost.
  let events: EventWriter | null = null;
  const eventWriter = async () => (events ??= new (await import("./task/events/event_writer.js")).EventWriter(workspace.eventsDir));
  // For submit's checks and the model list only: it starts no worker, so it needs no closing.
  let engines: EngineRegistry | null = null;
  const engineRegistry = async () =>
    (engines ??= new (await import("./engines/registry.js")).EngineRegistry({ python: resolved.python, modelsDir: workspace.modelsDir, maxWorkers: 1, allowModelDownload: resolved.allowModelDownload }));
  const control = () => import("./control.js");

  const progressOf = async (running: readonly StoredTask["task"][]): Promise<Map<string, TaskProgress | null>> =>
    running.length === 0 ? new Map() : (await import("./task_progress.js")).progressOf(workspace.eventsDir, running);

  const info = async (stored: StoredTask): Promise<TaskInfo> => {
    const progress = stored.task.status === "running" ? ((await progressOf([stored.task])).get(stored.task.task_id) ?? null) : null;
    return toInfo(stored, progress);
  };

  const list = async (): Promise<TaskListEntry[]> => {
    const entries = await store.list();
    // By the summary: a finished task from the store's cache file is not parsed until it is asked for.
    const running = entries.flatMap((entry) => (entry.ok && summaryOf(entry.stored).status === "running" ? [entry.stored.task] : []));
    const progress = await progressOf(running);
    return byCreation(
      entries.map((entry): TaskListEntry =>
        entry.ok ? listEntry(entry.stored, progress.get(summaryOf(entry.stored).id) ?? null) : { valid: false, id: entry.idFromName, file: entry.file, error: entry.error },
      ),
    );
  };

  return {
    dir: workspace.dir,
    get exists() {
      return existsSync(workspace.dir);
    },

    async submit(options: SubmitOptions) {
      return info(await (await control()).submitTask(store, await eventWriter(), await engineRegistry(), options));
    },

    async models() {
      return (await engineRegistry()).get("faster_whisper").models();
    },

    async cancel(taskId: string): Promise<CancelResult> {
      const result = await (await control()).cancelTask(store, await eventWriter(), taskId);
      return { task: await info(result.stored), previous: result.previous, stopped: result.stopped };
    },

    async remove(taskId: string, options = {}) {
      const written = async () => {
        // The files its last attempt wrote, absolute: its artifact.written events after its last task.started.
        let files: string[] = [];
        for await (const event of (await import("./follow_events.js")).followEvents(workspace.eventsDir, { task: taskId, follow: false })) {
          if (event.type === "task.started") files = [];
          if (event.type === "artifact.written") files.push(path.resolve(workspace.root, event.payload.path));
        }
        return files;
      };
      const before = await info(await store.find(taskId));
      const result = await (await control()).removeTask(store, await eventWriter(), taskId, written, options);
      return { task: { ...before, status: result.stored.task.status }, outputsRemoved: result.outputsRemoved };
    },

    async retry(taskId: string) {
      return info(await (await control()).retryTask(store, await eventWriter(), taskId));
    },

    list,

    async get(taskId: string) {
      return info(await store.find(taskId));
    },

    async status(): Promise<WorkspaceStatus> {
      const entries = await list();
      const counts = Object.fromEntries([...TASK_STATUSES, "invalid"].map((status) => [status, 0])) as Record<TaskStatus | "invalid", number>;
      const running: WorkspaceStatus["running"] = [];
      const runners = new Map<string, LiveRunner>();
      for (const entry of entries) {
        if (!entry.valid) {
          counts.invalid += 1;
          continue;
        }
        counts[entry.status] += 1;
        if (entry.status !== "running") continue;
        const owner = entry.task.runner ? { host: entry.task.runner.host, pid: entry.task.runner.pid } : null;
        const orphaned = (await runnerState(store, entry.file, entry.task.runner)) !== "alive";
        running.push({ ...entry, runner: owner, orphaned });
        if (owner && !orphaned) {
          const key = `${owner.host}:${owner.pid}`;
          const live = runners.get(key) ?? { ...owner, tasks: [] };
          live.tasks.push(entry.id);
          runners.set(key, live);
        }
      }
      // A watching runner with nothing to do holds no lease: its presence file tells it.
      for (const present of await (await import("./runner/presence.js")).presentRunners(workspace)) {
        const key = `${present.host}:${present.pid}`;
        if (!runners.has(key)) runners.set(key, { host: present.host, pid: present.pid, tasks: [] });
      }
      return { dir: workspace.dir, counts, running, runners: [...runners.values()] };
    },

    startRunner(options = {}) {
      return startRunner({ store, settings: resolveSettings({ ...settings, ...definedOnly(options) }), options });
    },

    async *followEvents(options = {}) {
      yield* (await import("./follow_events.js")).followEvents(workspace.eventsDir, options);
    },

    async wait(taskId, { signal } = {}) {
      const followEvents = (await import("./follow_events.js")).followEvents;
      // Events from a second before the first look on: an end written between the two is not missed.
      const since = new Date(Date.now() - 1000);
      let found = await info(await store.find(taskId));
      if (isFinished(found.status)) return found;
      for await (const event of followEvents(workspace.eventsDir, { task: taskId, since, signal })) {
        if (!ENDINGS.has(event.type)) continue;
        found = await info(await store.find(taskId));
        if (isFinished(found.status)) return found;
      }
      signal?.throwIfAborted();
      throw new SophiaError("internal", `stopped following task ${taskId} before it finished`);
    },
  };
}

/**
 * Oldest first by `created_at`, to the millisecond: file names carry the second only, so tasks
 * submitted within one second would otherwise list by id. An invalid file, which has no time, keeps
 * its place after the task its name sorts after.
 */
function byCreation(entries: TaskListEntry[]): TaskListEntry[] {
  let previous = Number.MIN_SAFE_INTEGER;
  const keys = entries.map((entry) => {
    const time = entry.valid ? Date.parse(entry.created_at) : Number.NaN;
    if (!Number.isNaN(time)) previous = time;
    return previous;
  });
  return entries.map((entry, i) => ({ entry, key: keys[i] as number })).sort((a, b) => a.key - b.key).map(({ entry }) => entry);
}

/** The events after which a task may have finished (its file says whether it has: a retry may follow at once). */
const ENDINGS = new Set(["task.completed", "task.failed", "task.canceled"]);

/**
 * A valid task as `list` gives it. `task` and `raw` are read from `stored` when asked for, not
 * copied: a finished task the store took from its cache file is parsed only then, so a `list` of
 * ten thousand parses none. One literal (a spread into it, or defineProperty, made each entry ten
 * times slower to build), and own enumerable getters, so that JSON.stringify and structured clone
 * (an app's IPC) still see both.
 */
function listEntry(stored: StoredTask, progress: TaskInfo["progress"]): TaskListEntry {
  const { id, status, created_at, media } = summaryOf(stored);
  return {
    valid: true,
    id,
    status,
    created_at,
    media,
    file: stored.file,
    get task() {
      return stored.task;
    },
    get raw() {
      return stored.raw;
    },
    progress,
  };
}

/** One task, its fields copied (it is parsed already, or cheap to parse alone). */
function toInfo(stored: StoredTask, progress: TaskInfo["progress"]): TaskInfo {
  const { valid: _valid, ...info } = listEntry(stored, progress) as TaskInfo & { valid: true };
  return info;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
