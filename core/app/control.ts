/**
 * What a user asks of tasks besides running them: submit, cancel, retry. Each is one store
 * transition plus its event; the CLI only parses flags and prints.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TOOL_NAME } from "./config.js";
import { whisperLanguage } from "./engines/faster_whisper/language_names.js";
import { resolveEngineConfig, type EngineRegistry } from "./engines/registry.js";
import { SophiaError } from "./errors.js";
import { assertFileExists } from "./file_exists.js";
import type { SubmitOptions } from "./interfaces.js";
import { resolveRules } from "./refine/rules.js";
import { createStages } from "./stages/index.js";
import type { EventWriter } from "./task/events/event_writer.js";
import { assertOutputsFree } from "./runner/output_owners.js";
import { TASK_ID_PATTERN, type RunnerInfo, type TaskStatus } from "./task/model/schema.js";
import { runnerState } from "./runner/runner_liveness.js";
import type { StoredTask } from "./task/model/stored_task.js";
import type { TaskStore } from "./task/store/store.js";
import { validateTask } from "./task/store/parse_task.js";
import { declaredOutputs, resolveTaskPaths } from "./task/model/task_paths.js";

/** Writes a queued task; refuses, before writing anything, engine options or a model the runner would refuse. */
export async function submitTask(store: TaskStore, events: EventWriter, engines: EngineRegistry, request: SubmitOptions): Promise<StoredTask> {
  const refine = request.refine ?? true;
  const { workspace } = store;
  const media = path.resolve(request.media);
  await assertFileExists(media, `media "${request.media}"`, { missing: "media_missing", notAFile: "media_missing" });
  const script = request.script ? path.resolve(request.script) : null;
  if (script) await assertFileExists(script, `script "${request.script}"`, { missing: "script_missing", notAFile: "script_missing" });
  const taskId = request.taskId ?? generatedTaskId(media);
  if (!TASK_ID_PATTERN.test(taskId)) {
    throw new SophiaError("usage", `--id "${taskId}" is not a valid task id: use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit`);
  }
  const defaults = workspace.defaultOutputs(media, taskId);
  const outputs = {
    ...(request.outputDir ? movedTo(defaults, workspace.display(path.resolve(request.outputDir))) : defaults),
    ...(request.refinedSrt ? { refined_srt: workspace.display(path.resolve(request.refinedSrt)) } : {}),
  };
  const rules = { ...request.rules, enabled: refine };
  if (refine) resolveRules(rules, "the subtitle rules");
  const raw = {
    task_id: taskId,
    run_id: request.runId ?? `run_${randomBytes(6).toString("hex")}`,
    created_at: new Date().toISOString(),
    status: "queued",
    type: "transcription",
    requested_by: "user",
    tool: TOOL_NAME,
    config_snapshot: {
      engine: engineConfig(request),
      refine: rules,
    },
    input: { media: workspace.display(media), script: script ? workspace.display(script) : null },
    pipeline: refine ? ["asr", "refine"] : ["asr"],
    output: {
      ...outputs,
      ...(request.formats ? { formats: request.formats } : {}),
      ...(request.karaoke ? { ass: { karaoke: true } } : {}),
      ...(request.outsideWorkspace ? { outside_workspace: true } : {}),
      ...(request.overwrite ? { overwrite: true } : {}),
    },
    error: null,
    // Present from birth: the task is announced (isAnnounced), its `task.created` is written below.
    attempts: 0,
  };
  // The runner would refuse these paths, options, models and outputs another task owns at preflight; refusing them now leaves no task behind.
  const task = validateTask(raw, "new task");
  await assertOutputsFree(store, task, resolveTaskPaths(task, workspace), createStages(engines), { when: "submit" });
  const engine = resolveEngineConfig(raw.config_snapshot.engine);
  const asr = engines.get(engine.type);
  // Each a Python start: side by side (the model is looked up once per process, the media each time).
  await Promise.all([asr.check(engine), asr.checkMedia(media)]);
  // All or nothing: a task must not sit in the queue without its task.created event.
  await events.assertWritable();
  return store.create(raw, async (stored) => {
    try {
      await events.emit(stored.task, "task.created", { input: stored.task.input.media });
    } catch (error) {
      await store.discardUnclaimed(stored.file);
      throw error;
    }
  });
}

/** `config_snapshot.engine` as the user gave it: only what was asked, so the task file says what the user chose. */
function engineConfig(request: SubmitOptions): { type: string } & Record<string, unknown> {
  return {
    type: request.engine ?? "faster_whisper",
    ...request.engineOptions,
    ...(request.model ? { model: request.model } : {}),
    ...(request.language !== undefined ? { language: request.language === null ? null : whisperLanguage(request.language) } : {}),
    ...(request.task ? { task: request.task } : {}),
  };
}

export interface CancelOutcome {
  stored: StoredTask;
  previous: TaskStatus;
  /** For a running task: whether its runner let go (outputs removed) within the wait. */
  stopped: boolean;
}

/** Cancels a queued or running task; for a running one, waits up to `waitMs` for its runner to stop. */
export async function cancelTask(store: TaskStore, events: EventWriter, taskId: string, waitMs = 10_000): Promise<CancelOutcome> {
  const found = await store.find(taskId);
  let previous: TaskStatus = found.task.status;
  const stored = await store.transition(found.file, "cancel", (task) => {
    previous = task.status;
    return { finished_at: new Date().toISOString() };
  });
  await events.emit(stored.task, "task.canceled", { previous_status: previous });
  const stopped = previous === "running" ? await waitForRunnerToStop(store, found.file, stored.task.runner, waitMs) : true;
  return { stored, previous, stopped };
}

export async function retryTask(store: TaskStore, events: EventWriter, taskId: string): Promise<StoredTask> {
  const found = await store.find(taskId);
  const stored = await store.transition(found.file, "retry", () => ({ error: null, attempts: 0, started_at: null, finished_at: null, runner: null }));
  await events.emit(stored.task, "task.requeued", { reason: "retry", attempts: 0 });
  return stored;
}

/** Until its lease is let go, or its process is gone on this host (its lease would stay fresh for a while). */
export interface RemoveResult {
  stored: StoredTask;
  /** The outputs deleted with it (only when asked), as the events show paths. */
  outputsRemoved: string[];
}

/**
 * Deletes a finished task's file and writes `task.removed`. Its outputs stay unless `outputs` is
 * set; then the files its last attempt wrote (`written`, from its `artifact.written` events) go too,
 * except one that another task still names as an output.
 */
export async function removeTask(store: TaskStore, events: EventWriter, taskId: string, written: () => Promise<string[]>, options: { outputs?: boolean } = {}): Promise<RemoveResult> {
  const found = await store.find(taskId);
  const candidates = options.outputs ? await written() : [];
  const stored = await store.remove(found.file);
  const outputsRemoved: string[] = [];
  if (candidates.length > 0) {
    const named = new Set<string>();
    for (const entry of await store.list()) if (entry.ok) for (const output of declaredOutputs(entry.stored.task, store.workspace)) named.add(output);
    for (const file of candidates) {
      if (named.has(file)) continue;
      await rm(file, { force: true });
      outputsRemoved.push(store.workspace.display(file));
    }
  }
  await events.emit(stored.task, "task.removed", { previous_status: stored.task.status, file: store.workspace.display(stored.file), outputs_removed: outputsRemoved });
  return { stored, outputsRemoved };
}

async function waitForRunnerToStop(store: TaskStore, file: string, runner: RunnerInfo | null | undefined, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if ((await runnerState(store, file, runner)) !== "alive") return true;
    await sleep(100);
  }
  return false;
}

/** The default output names, in another folder. */
function movedTo<T extends Record<string, string>>(outputs: T, dir: string): T {
  return Object.fromEntries(Object.entries(outputs).map(([field, file]) => [field, path.join(dir, path.basename(file))])) as T;
}

function generatedTaskId(media: string): string {
  const stem = path.basename(media, path.extname(media)).replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return `${stem || "task"}_${randomBytes(3).toString("hex")}`;
}
