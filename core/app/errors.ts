/**
 * Errors are values with a code, a message a user can act on, and the cause attached.
 * The CLI turns them into one line and an exit code; the runner stores them in the task's `error` field.
 */
import type { z } from "zod";

export type ErrorCode =
  | "usage" // bad flags or arguments
  | "task_not_found"
  | "task_invalid" // a task file that is not JSON, or does not match the schema
  | "task_conflict" // two task files claim one task_id
  | "transition_refused" // a status change the lifecycle does not allow
  | "task_busy" // the task is claimed by another runner right now
  | "media_missing"
  | "media_unreadable"
  | "media_not_audio" // submit: the media has no audio stream to transcribe (a text file, a silent video)
  | "script_missing"
  | "script_invalid" // not UTF-8 text
  | "script_mismatch" // the script does not fit the media's speech
  | "output_outside_workspace"
  | "output_clobbers_input"
  | "disk_full" // ENOSPC/EDQUOT while writing to the workspace
  | "workspace_unwritable" // read-only or not permitted
  | "workspace_missing"
  | "workspace_not_a_folder"
  | "output_name_too_long" // a file or folder name the file system would refuse (ENAMETOOLONG)
  | "output_reserved" // inside tasks/, events/, outputs/_tmp/ or models/, or a folder
  | "output_taken" // another task owns the output file (output.overwrite lifts it)
  | "engine_unknown"
  | "engine_unavailable" // the engine's runtime (Python venv) cannot be started
  | "model_unavailable"
  | "model_english_only" // an English-only model (*.en) asked for another language, or to translate
  | "worker_crashed"
  | "cluster_unavailable" // the Ray cluster (--cluster) cannot be reached: the runner stops, its tasks stay queued
  | "stage_unknown"
  | "stage_input_missing"
  | "srt_invalid"
  | "subtitles_invalid" // a VTT, ASS, TSV or JSON subtitle file that cannot be read
  | "canceled" // the user canceled the task
  | "superseded" // another runner took the task over: this one no longer owns it
  | "interrupted"
  | "internal";

export class SophiaError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for `--json` output and event payloads (file names, positions, ...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SophiaError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isSophiaError(error: unknown, code?: ErrorCode): error is SophiaError {
  return error instanceof SophiaError && (code === undefined || error.code === code);
}

/** A failed schema check as one line: each issue as `where.path: message`, joined with "; ". */
export function describeIssues(error: z.ZodError, where: readonly PropertyKey[] = [], whole = "(root)"): string {
  return error.issues.map((issue) => `${[...where, ...issue.path].map(String).join(".") || whole}: ${issue.message}`).join("; ");
}

/** Any thrown value as an Error, so callers can rely on `.message` and `.stack`. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
