/**
 * The task file and the event line: the one definition of both.
 *
 * Types, runtime validation and the published JSON Schemas (`schemas/*.schema.json`, made by
 * `scripts/gen-schemas.ts`) all come from here. Objects are "loose": fields this runner does not
 * know (the desktop app's own) pass validation untouched, and the store writes them back as they were.
 */
import { z } from "zod";
import { SUBTITLE_FORMATS } from "../../subtitles/format_names.js";
import { TASK_STATUSES } from "./task_status.js";

export { TASK_STATUSES, type TaskStatus } from "./task_status.js";
export const TaskStatusSchema = z.enum(TASK_STATUSES);

/** Safe in a file name on every OS, and not ambiguous with the `{timestamp}_` prefix (which has no `_`). */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const isoTimestamp = z.iso.datetime({ offset: true });

export const TaskErrorSchema = z.looseObject({
  /** Machine-readable cause, one of the codes in core/app/errors.ts. */
  code: z.string().optional(),
  message: z.string(),
  /** The stage that failed, or null when the task failed before or between stages. */
  stage: z.string().nullable().optional(),
  /** The full stack trace (for engine errors, the worker's Python traceback as well). */
  stack: z.string().optional(),
  at: isoTimestamp.optional(),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;

/**
 * Only what selects the engine is checked here. The engine's options are checked by the engine
 * (core/app/engines/faster_whisper/options.ts, published as schemas/engine.schema.json) before any
 * stage runs, unknown keys refused: a bad option fails the task, naming the key, rather than hiding
 * the task file.
 */
export const EngineConfigSchema = z.looseObject({
  type: z.string().min(1),
  /** A model name ("tiny.en", "base", "medium") or a directory; absent means the default for the language (spec §1.2). */
  model: z.string().min(1).optional(),
});

export const ConfigSnapshotSchema = z.looseObject({
  engine: EngineConfigSchema,
  /**
   * `enabled` (absent means true) plus the refine options. The options are checked by the refine
   * stage before any stage runs, so a bad one fails the task rather than hiding the task file; their
   * schema is published on its own as schemas/refine.schema.json (core/app/refine/rules.ts).
   */
  refine: z.looseObject({ enabled: z.boolean().optional() }).optional(),
  debug: z
    .looseObject({
      /** Keep `workspace/outputs/_tmp/<task_id>/` after the task ends (also env SOPHIA_KEEP_TMP=1). */
      keep_tmp: z.boolean().optional(),
    })
    .optional(),
});
export type ConfigSnapshot = z.infer<typeof ConfigSnapshotSchema>;

export const RunnerInfoSchema = z.looseObject({
  host: z.string(),
  pid: z.number().int().positive(),
  started_at: isoTimestamp,
});
export type RunnerInfo = z.infer<typeof RunnerInfoSchema>;

export const TaskSchema = z.looseObject({
  task_id: z.string().regex(TASK_ID_PATTERN, "letters, digits, '.', '_' or '-', at most 128, starting with a letter or digit"),
  /** The app's correlation id for this request; copied onto every event of the task. */
  run_id: z.string().min(1),
  created_at: isoTimestamp,
  status: TaskStatusSchema,
  type: z.literal("transcription"),
  requested_by: z.string(),
  tool: z.string(),
  config_snapshot: ConfigSnapshotSchema,
  input: z.looseObject({
    /** Relative paths resolve against the folder that contains the workspace folder. */
    media: z.string().min(1),
    script: z.string().min(1).nullable().optional(),
  }),
  pipeline: z.array(z.string().min(1)).min(1),
  /** Absent paths are derived from the media name and the task id (see Workspace.defaultOutputs). */
  output: z
    .looseObject({
      raw_srt: z.string().min(1).optional(),
      refined_srt: z.string().min(1).optional(),
      /**
       * The formats of the refined subtitles (default ["srt"]): SRT at refined_srt, each other one
       * beside it with the same name and its own extension (talk.refined.vtt).
       */
      formats: z.array(z.enum(SUBTITLE_FORMATS)).min(1).optional(),
      ass: z
        .looseObject({
          /** Highlight each word as it is spoken (`\k` tags), for karaoke and language learning. */
          karaoke: z.boolean().optional(),
        })
        .optional(),
      /**
       * Replace outputs that another queued, running or done task owns. Without it such a task is
       * refused at submit and fails before any stage runs (output_taken).
       */
      overwrite: z.boolean().optional(),
      /**
       * The outputs may lie outside the workspace: the user's explicit choice (`transcribe -o`).
       * Reserved folders, inputs, folders and other tasks' outputs are refused as ever.
       */
      outside_workspace: z.boolean().optional(),
    })
    .optional(),
  error: TaskErrorSchema.nullable(),

  // Written by the runner (additions to the spec's schema, documented in docs/Task_System_Spec_v0.1.md).
  /** How many times a runner has started this task (a shutdown hand-back does not count). */
  attempts: z.number().int().nonnegative().optional(),
  started_at: isoTimestamp.nullable().optional(),
  finished_at: isoTimestamp.nullable().optional(),
  /** The runner process executing the task while it is `running`; null otherwise. */
  runner: RunnerInfoSchema.nullable().optional(),
  /**
   * The run the last claim started: a random token written by the claim and never cleared. A
   * runner's writes are made only while the file still names its run (spec §1.4, "exactly once").
   */
  run_token: z.string().min(1).optional(),
});
export type Task = z.infer<typeof TaskSchema>;

// ---------------------------------------------------------------------------------------------
// Events

const StageNameField = z.string();
/**
 * Present, and true, only on a lifecycle event that its runner was killed before writing, written
 * later by the process that took its place (event_repair.ts).
 */
const RecoveredField = z.literal(true).optional();

/** Payload schemas by event type. The first six are the spec's, with exactly its fields. */
export const EventPayloadSchemas = {
  "task.created": z.object({ input: z.string(), recovered: RecoveredField }),
  "task.started": z.object({ pipeline: z.array(z.string()), recovered: RecoveredField }),
  "stage.progress": z.object({ stage: StageNameField, progress: z.number().min(0).max(1), msg: z.string() }),
  "artifact.written": z.object({ path: z.string(), kind: z.string() }),
  "task.completed": z.object({ duration_sec: z.number().nonnegative(), recovered: RecoveredField }),
  "task.failed": z.object({ error: z.string(), stack: z.string(), recovered: RecoveredField }),

  // Additions (docs/Task_System_Spec_v0.1.md §2.3).
  "stage.started": z.object({ stage: StageNameField }),
  "stage.completed": z.object({ stage: StageNameField, duration_sec: z.number().nonnegative(), summary: z.record(z.string(), z.unknown()) }),
  "stage.skipped": z.object({ stage: StageNameField, reason: z.string() }),
  "stage.aborted": z.object({ stage: StageNameField.nullable(), reason: z.enum(["canceled", "shutdown", "superseded"]), removed: z.array(z.string()) }),
  "task.canceled": z.object({ previous_status: TaskStatusSchema }),
  "task.requeued": z.object({ reason: z.enum(["retry", "shutdown", "recovered"]), attempts: z.number().int().nonnegative() }),
  "task.rejected": z.object({ file: z.string(), error: z.string() }),
  "task.conflict": z.object({ files: z.array(z.string()), error: z.string() }),
  "task.removed": z.object({ previous_status: TaskStatusSchema, file: z.string(), outputs_removed: z.array(z.string()) }),
} as const;

export type EventType = keyof typeof EventPayloadSchemas;
export const EVENT_TYPES = Object.keys(EventPayloadSchemas) as EventType[];
export type EventPayload<T extends EventType> = z.infer<(typeof EventPayloadSchemas)[T]>;

const eventVariant = <T extends EventType>(type: T) =>
  z.object({
    /** ISO-8601 UTC with milliseconds and `Z`. */
    ts: z.iso.datetime({ precision: 3 }),
    /** The task's run_id; null only for `task.rejected` of a file whose run_id could not be read, and for `task.conflict`. */
    run_id: z.string().nullable(),
    task_id: z.string(),
    type: z.literal(type),
    payload: EventPayloadSchemas[type],
  });

export const EventSchema = z.discriminatedUnion(
  "type",
  EVENT_TYPES.map((type) => eventVariant(type)) as unknown as [
    ReturnType<typeof eventVariant<EventType>>,
    ...ReturnType<typeof eventVariant<EventType>>[],
  ],
);

export type SophiaEvent = {
  [T in EventType]: { ts: string; run_id: string | null; task_id: string; type: T; payload: EventPayload<T> };
}[EventType];
