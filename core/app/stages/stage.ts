/**
 * The contract between the runner and a pipeline stage. A stage gets what it needs and returns
 * what it made; it never touches the task file, its locks or the event stream (the runner does).
 * What a stage uses beyond the task (an engine registry) it is built with: createAsrStage(engines).
 */
import type { Task } from "../task/model/schema.js";
import type { TaskOutput, TaskPaths } from "../task/model/task_paths.js";

export interface StageContext {
  task: Task;
  paths: TaskPaths;
  /** Aborts on cancel or shutdown; a stage stops promptly and rejects with `signal.reason`. */
  signal: AbortSignal;
  /** `fraction` in 0..1 of this stage; the runner throttles what reaches the event stream. */
  progress(fraction: number, msg: string): void;
}

export interface Artifact {
  /** Absolute path of a complete file, written with writeFileAtomically. */
  path: string;
  /** `raw_srt`, `refined_srt`, ... */
  kind: string;
}

export interface StageResult {
  artifacts: Artifact[];
  /** Facts for the `stage.completed` event (counts, rule violations, ...). */
  summary: Record<string, unknown>;
}

/** `signal` aborts on cancel or shutdown: a preflight that reads a file stops promptly. */
export type PreflightContext = Pick<StageContext, "task" | "paths" | "signal">;

export interface Stage {
  readonly name: string;
  /** Stages that, when the same pipeline has them, must run before this one (it reads what they write). */
  readonly after?: readonly string[];
  /**
   * Cheap checks of everything the stage will need (inputs exist, options valid), run for every
   * stage before the first starts: a bad script must not fail a task after hours of transcription.
   */
  preflight(context: PreflightContext): Promise<void>;
  /**
   * The files this stage writes for a task, among the outputs its task file names: what the task
   * owns (output_owners.ts), and what pipeline.ts keeps apart from what earlier stages write.
   */
  outputs(paths: TaskPaths): TaskOutput[];
  /** Why this task does not need the stage (its options turn it off), or null to run it: reported as `stage.skipped`. */
  skipReason?(task: Task): string | null;
  run(context: StageContext): Promise<StageResult>;
}
