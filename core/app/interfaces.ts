/**
 * Sophia's public types: everything `import … from "sophia"` hands out or accepts, in one file
 * (as graphile-worker's interfaces.ts). The CLI is built on exactly these.
 */
import type { SophiaSettings } from "./config.js";
import type { ModelInfo } from "./engines/engine.js";
import type { SophiaError } from "./errors.js";
import type { SubtitleFormat } from "./subtitles/index.js";
import type { SophiaEvent, Task, TaskStatus } from "./task/model/schema.js";

export type { SophiaSettings } from "./config.js";
export type { ModelInfo } from "./engines/engine.js";
export type { ErrorCode } from "./errors.js";
export type { EventPayload, EventType, SophiaEvent, Task, TaskError, TaskStatus } from "./task/model/schema.js";

export interface SubmitOptions {
  /** The audio or video file; a relative path resolves against the current folder. */
  media: string;
  /** UTF-8 text of what is said: the refined subtitles use its words, exactly. */
  script?: string | null;
  /**
   * A faster_whisper model name or directory; refused at once when it cannot be found here.
   * @defaultValue "tiny.en" when `language` is "en", else "base" (both bundled)
   */
  model?: string;
  /** The spoken language, a Whisper code ("en", "de") or its English name ("German"). @defaultValue null: detected by the model */
  language?: string | null;
  /** "translate": English subtitles for speech in any language. @defaultValue "transcribe" */
  task?: "transcribe" | "translate";
  /**
   * Any other engine option, as in `config_snapshot.engine` (schemas/engine.schema.json); checked
   * before the task is written, unknown keys refused by name.
   */
  engineOptions?: Record<string, unknown>;
  /** `config_snapshot.engine.type`. @defaultValue "faster_whisper" */
  engine?: string;
  /** @defaultValue the media's name plus a random suffix */
  taskId?: string;
  /** The app's correlation id, carried by every event of the task. @defaultValue random */
  runId?: string;
  /** false: the pipeline is `["asr"]` only. @defaultValue true */
  refine?: boolean;
  /**
   * A folder inside the workspace for this task's outputs, under their default names; a relative
   * path resolves against the current folder. @defaultValue the workspace's outputs/subtitles/raw and …/refined
   */
  outputDir?: string;
  /** Formats of the refined subtitles (`output.formats`), each beside the refined SRT. @defaultValue ["srt"] */
  formats?: SubtitleFormat[];
  /** The ASS file highlights each word as it is spoken (`output.ass.karaoke`). @defaultValue false */
  karaoke?: boolean;
  /**
   * Where the refined SRT goes (`output.refined_srt`); the other formats go beside it under the same
   * name. @defaultValue in `outputDir`, else outputs/subtitles/refined, named after the media and task
   */
  refinedSrt?: string;
  /**
   * The outputs may lie outside the workspace (`output.outside_workspace`): the user's explicit
   * choice. Every other output rule still applies. @defaultValue false
   */
  outsideWorkspace?: boolean;
  /** Replace outputs another task owns (`output.overwrite`). @defaultValue false */
  overwrite?: boolean;
  /**
   * Subtitle rules for refine (`config_snapshot.refine`, schemas/refine.schema.json):
   * `max_chars_per_line`, `max_lines`, `max_cps`, `children`, …; checked at submit.
   * @defaultValue the rules of the subtitles' language
   */
  rules?: Record<string, unknown>;
}

/** Where a running task is, from the last progress event of its current attempt. */
export interface TaskProgress {
  stage: string;
  /** 0..1 of the stage. */
  fraction: number;
  msg: string;
  /** When that event was written. */
  at: string;
}

export interface TaskInfo {
  id: string;
  status: TaskStatus;
  /** `task.created_at`. */
  created_at: string;
  /** `task.input.media`, as the task file gives it. */
  media: string;
  /** Absolute path of the task file. */
  file: string;
  /**
   * The task file as validated. Read when asked for: a finished task that `list` took from the
   * store's cache file is parsed only then (the fields above need no parsing).
   */
  task: Task;
  /** The task file as stored, fields Sophia does not know included; read when asked for, as `task`. */
  raw: Record<string, unknown>;
  /** Only for a `running` task: its stage and how far it is (null until its first stage starts). */
  progress: TaskProgress | null;
}

/** A file in `tasks/` that is not a valid task: shown, never hidden, never run. */
export interface InvalidTaskFile {
  /** The task id its file name announces. */
  id: string;
  file: string;
  error: SophiaError;
}

export type TaskListEntry = ({ valid: true } & TaskInfo) | ({ valid: false } & InvalidTaskFile);

export interface CancelResult {
  task: TaskInfo;
  previous: TaskStatus;
  /** For a task that was running: whether its runner let go (partial outputs removed) within the wait. */
  stopped: boolean;
}

/** A runner process, alive because it holds the run lease of a task it is executing, or (watching, idle: `tasks` empty) by its presence file. */
export interface LiveRunner {
  host: string;
  pid: number;
  tasks: string[];
}

export interface WorkspaceStatus {
  dir: string;
  /** Tasks per status; `invalid` counts files that are not valid tasks. */
  counts: Record<TaskStatus | "invalid", number>;
  /** Every running task, with where it runs; `orphaned` when its runner is gone (the next runner recovers it). */
  running: Array<TaskInfo & { runner: { host: string; pid: number } | null; orphaned: boolean }>;
  /**
   * Runners alive: those executing a task now, told by their fresh run leases, and watching runners
   * with nothing to do (`tasks` empty), told by their presence files in runners/.
   */
  runners: LiveRunner[];
}

export interface RunnerOptions extends Pick<SophiaSettings, "concurrency" | "rescanIntervalSec" | "keepTmp" | "allowModelDownload" | "python" | "cluster" | "clusterSharedPaths"> {
  /**
   * false: run every queued task, then finish. true: keep running, picking up new task files as
   * they appear, until stop().
   * @defaultValue false
   */
  watch?: boolean;
  /** Run this one task now, then finish (it must be queued). Not with `watch`. */
  task?: string;
  /**
   * Run these tasks now, one after another, then finish; one that is no longer queued when its turn
   * comes (another runner took it, it was canceled) is reported `skipped`. Not with `watch` or `task`.
   */
  tasks?: string[];
}

/**
 * `canceled`: by the user. `superseded`: another runner took the task over while this one was
 * stopped; this one touched nothing. `busy`: another runner holds its run lease; not started.
 * `skipped`: no longer queued when claimed. `unwritable`: the workspace could not be written (disk
 * full, read-only), so the task's state could not be recorded; `reason` says what it was left as.
 */
export type RunOutcomeKind = "done" | "failed" | "canceled" | "handed_back" | "superseded" | "busy" | "skipped" | "crashed" | "unwritable";

/** How one task's run ended, and the files it left. */
export interface RunResult {
  taskId: string;
  outcome: RunOutcomeKind;
  /** `failed`, `skipped`, `busy`, `crashed`, `unwritable`: why. */
  reason?: string;
  /** Files this run wrote and kept, absolute paths (none after a cancel or hand-back: they are removed). */
  artifacts: Array<{ kind: string; path: string }>;
}

export interface RunnerEvents {
  /** Every event this runner writes, once it is on disk. */
  event: [event: SophiaEvent];
  /** A task's run ended. */
  result: [result: RunResult];
  /** A task left `running` by a dead runner went back to the queue, or failed after too many attempts. */
  recovered: [recovered: { taskId: string; action: "requeued" | "failed" }];
  /** A task file that is not valid: reported once (and a `task.rejected` event written). */
  rejected: [file: InvalidTaskFile];
  /** Two or more task files with one task_id: none is started; told once (and a `task.conflict` event written). */
  conflict: [conflict: { taskId: string; files: string[]; error: Error }];
  /** A scan of the task folder failed (disk gone, permissions); the next one tries again. */
  scanFailed: [error: Error];
  /** Watch mode: the file watcher is ready. */
  watching: [];
}

export interface Runner {
  /** Stops claiming tasks and hands the running ones back to the queue; resolves once they have let go. */
  stop(): Promise<void>;
  /** Settles when the runner has finished (drained, or stopped): the results of every task it ran. */
  readonly done: Promise<RunResult[]>;
  on<K extends keyof RunnerEvents>(event: K, listener: (...args: RunnerEvents[K]) => void): this;
  off<K extends keyof RunnerEvents>(event: K, listener: (...args: RunnerEvents[K]) => void): this;
}

export interface FollowOptions {
  /** Only this task's events. */
  task?: string;
  /** Only events at or after this instant (an ISO-8601 time or a Date). */
  since?: string | Date;
  /** Start with only the last N events of what is already written. */
  last?: number;
  /** false: what is written now, then end. @defaultValue true: keep following until the signal aborts or the loop breaks */
  follow?: boolean;
  signal?: AbortSignal;
  /** A line that is not an event (garbage, `{}`, a torn last line): skipped, and reported here, never hidden. */
  onUnreadable?: (line: { file: string; line: number; error: string }) => void;
}

export interface SophiaWorkspace {
  /** The workspace folder (absolute). */
  readonly dir: string;
  /** Writes a queued task and its `task.created` event. */
  submit(options: SubmitOptions): Promise<TaskInfo>;
  /** Cancels a queued or running task; a running one is waited for (about a second) until its runner lets go. */
  cancel(taskId: string): Promise<CancelResult>;
  /**
   * Deletes a finished (done, failed or canceled) task's file and writes a `task.removed` event.
   * Its outputs stay unless `outputs` is true: then the files its last attempt wrote go too, except
   * one another task still names. Refused (`transition_refused`) for a queued or running task.
   */
  remove(taskId: string, options?: { outputs?: boolean }): Promise<{ task: TaskInfo; outputsRemoved: string[] }>;
  /** Queues a failed or canceled task again. */
  retry(taskId: string): Promise<TaskInfo>;
  /** Every task file, oldest first, the invalid ones included. */
  list(): Promise<TaskListEntry[]>;
  /** One task; rejects with `task_not_found` for an unknown id. */
  get(taskId: string): Promise<TaskInfo>;
  /** Counts per status, the running tasks and where, the live runners. */
  status(): Promise<WorkspaceStatus>;
  /** Every model available here, with its size, languages and where it was found. */
  models(): Promise<ModelInfo[]>;
  /** Starts a runner in this process. */
  startRunner(options?: RunnerOptions): Runner;
  /**
   * Resolves with the task once it has finished (`done`, `failed` or `canceled`), at once for a task
   * that has; whichever runner runs it. Rejects with the signal's reason when it aborts, and with
   * `task_not_found` for an unknown id.
   */
  wait(taskId: string, options?: { signal?: AbortSignal }): Promise<TaskInfo>;
  /** The event stream as typed events: what is written, then (by default) what runners append. */
  followEvents(options?: FollowOptions): AsyncGenerator<SophiaEvent, void, undefined>;
}
