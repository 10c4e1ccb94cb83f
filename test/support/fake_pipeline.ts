/**
 * Fakes for in-process tests of the runner and the scheduler: stages that write their output and
 * then wait on a promise the test controls, and a store whose run lease the test can take away.
 * The task store, the event writer and the task files themselves are real, on a temp workspace.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeFileAtomically } from "../../core/app/atomic_write.js";
import { EngineRegistry } from "../../core/app/engines/registry.js";
import type { Stage, StageContext, StageResult } from "../../core/app/stages/stage.js";
import type { TaskOutput, TaskPaths } from "../../core/app/task/model/task_paths.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import type { Lease } from "../../core/app/task/store/lease_keeper.js";
import { EventSchema, type SophiaEvent } from "../../core/app/task/model/schema.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { specExampleTask } from "./harness.js";

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves when `signal` aborts (never rejects). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export interface FakeStageRun {
  context: StageContext;
  /** Settles the stage: it returns its artifact. */
  finish(): void;
}

export interface FakeStageBehaviour {
  /** Returns normally even when aborted (as a stage does that is just writing its output when the abort lands). */
  ignoreAbort?: boolean;
  /** Writes its output once finished rather than as it starts. */
  writeAfterFinish?: boolean;
  /** Does not wait for the test. */
  finishAtOnce?: boolean;
}

/**
 * A fake stage named `asr` (writes the raw SRT) or `refine` (writes the refined SRT): writes its
 * output, tells the test it is running, then waits for the test's `finish()` (or, unless
 * `ignoreAbort`, rejects with the abort reason as real stages do).
 */
export class FakeStage implements Stage {
  readonly runs: FakeStageRun[] = [];
  private readonly slots: Deferred<FakeStageRun>[] = [];
  private asked = 0;

  constructor(
    readonly name: "asr" | "refine",
    private readonly behaviour: FakeStageBehaviour = {},
  ) {}

  async preflight(): Promise<void> {}

  outputs(paths: TaskPaths): TaskOutput[] {
    return this.name === "asr" ? [paths.raw] : paths.refined.filter((output) => output.path === paths.refinedSrt);
  }

  /** The next run of this stage (first, second, ...), once it has started. */
  nextRun(): Promise<FakeStageRun> {
    return this.slot(this.asked++).promise;
  }

  async run(context: StageContext): Promise<StageResult> {
    const gate = deferred();
    const run: FakeStageRun = { context, finish: () => gate.resolve() };
    const slot = this.slot(this.runs.length);
    this.runs.push(run);
    const output = this.outputOf(context);
    const write = () => writeFileAtomically(output, `${this.name} output of ${context.task.task_id}\n`);
    if (!this.behaviour.writeAfterFinish) await write();
    slot.resolve(run);
    if (this.behaviour.finishAtOnce) run.finish();
    if (this.behaviour.ignoreAbort) await gate.promise;
    else await Promise.race([gate.promise, aborted(context.signal).then(() => Promise.reject(context.signal.reason as Error))]);
    if (this.behaviour.writeAfterFinish) await write();
    return { artifacts: [{ path: output, kind: this.name === "asr" ? "raw_srt" : "refined_srt" }], summary: {} };
  }

  outputOf(context: Pick<StageContext, "paths">): string {
    return this.name === "asr" ? context.paths.rawSrt : context.paths.refinedSrt;
  }

  private slot(index: number): Deferred<FakeStageRun> {
    while (this.slots.length <= index) this.slots.push(deferred<FakeStageRun>());
    return this.slots[index] as Deferred<FakeStageRun>;
  }
}

/** A task store whose run leases are fakes held in memory: the test decides when one is lost. */
export class FakeLeaseStore extends TaskStore {
  readonly leases = new Map<string, { lose(): void }>();

  override async acquireLease(file: string, onLost: (error: Error) => void): Promise<Lease | null> {
    if (this.leases.has(file)) return null;
    const lease = {
      lose: () => {
        this.leases.delete(file);
        onLost(new Error("fake lease lost"));
      },
      release: async () => void this.leases.delete(file),
      abandon: async () => void this.leases.delete(file),
    };
    this.leases.set(file, lease);
    return lease;
  }
}

export interface FakeWorkspace {
  root: string;
  workspace: Workspace;
  events: EventWriter;
  /** Engines are never started by fake stages; the runner only needs the registry to exist. */
  engines: EngineRegistry;
  dispose(): void;
}

export function fakeWorkspace(): FakeWorkspace {
  const root = mkdtempSync(path.join(tmpdir(), "sophia-fake-"));
  const workspace = new Workspace(path.join(root, "workspace"));
  mkdirSync(workspace.tasksDir, { recursive: true });
  mkdirSync(path.join(workspace.dir, "inbox"), { recursive: true });
  writeFileSync(path.join(workspace.dir, "inbox", "media.wav"), "not really audio: fake stages never read it");
  return {
    root,
    workspace,
    events: new EventWriter(workspace.eventsDir),
    engines: new EngineRegistry({ python: "/nonexistent/fake-python", modelsDir: workspace.modelsDir, maxWorkers: 1, allowModelDownload: false }),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A queued asr-only task written as the app writes it; returns the file. */
export function queueTask(workspace: Workspace, taskId: string, overrides: Record<string, unknown> = {}, stamp = "20260206"): string {
  const file = path.join(workspace.tasksDir, `${stamp}_${taskId}.task.json`);
  const task = specExampleTask({
    task_id: taskId,
    pipeline: ["asr"],
    config_snapshot: { engine: { type: "faster_whisper" } },
    input: { media: "workspace/inbox/media.wav", script: null },
    output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    ...overrides,
  });
  writeFileSync(file, `${JSON.stringify(task, null, 2)}\n`);
  return file;
}

export function taskOnDisk(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

export function eventsOf(workspace: Workspace, taskId?: string): SophiaEvent[] {
  let names: string[] = [];
  try {
    names = readdirSync(workspace.eventsDir).sort();
  } catch {
    return [];
  }
  const events = names.flatMap((name) =>
    readFileSync(path.join(workspace.eventsDir, name), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => EventSchema.parse(JSON.parse(line)) as SophiaEvent),
  );
  return taskId === undefined ? events : events.filter((event) => event.task_id === taskId);
}
