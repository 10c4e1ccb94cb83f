/** Exit codes of sophia-cli: documented in the README's CLI reference; tests rely on them. */
import type { ErrorCode } from "../errors.js";

export const EXIT = {
  ok: 0,
  /** The task ended `failed`; `check` found violations; an unexpected internal error. */
  failed: 1,
  /** Bad flags or arguments, or an input that cannot be used (missing file, invalid task file or SRT). */
  usage: 2,
  /** The task ended `canceled`. */
  canceled: 3,
  /** Refused: the task is not in a status that allows the command, is busy, its id is ambiguous, another runner took it over, or its output is another task's. */
  refused: 4,
  /**
   * The workspace cannot be written: the disk is full, or it is read-only or not permitted. A task
   * whose failure could not be recorded stays `running` and the next runner recovers it.
   */
  unwritable: 5,
  /**
   * The engine cannot start here: no Python with faster-whisper at the `python` setting (or
   * SOPHIA_PYTHON), or `setup-python` could not prepare one.
   */
  engine: 6,
  /** The Ray cluster (`--cluster`) cannot be reached: the runner stopped, and its tasks are back in the queue. */
  clusterUnavailable: 7,
  /** Stopped by SIGINT/SIGTERM; the task it was running is back in the queue. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every error code's exit code: a new code does not compile until it is decided here. */
const EXIT_CODE_OF: Record<ErrorCode, ExitCode> = {
  usage: EXIT.usage,
  task_not_found: EXIT.usage,
  task_invalid: EXIT.usage,
  media_missing: EXIT.usage,
  media_not_audio: EXIT.usage,
  script_missing: EXIT.usage,
  srt_invalid: EXIT.usage,
  subtitles_invalid: EXIT.usage,
  output_outside_workspace: EXIT.usage,
  output_clobbers_input: EXIT.usage,
  output_reserved: EXIT.usage,
  output_name_too_long: EXIT.usage,
  workspace_missing: EXIT.usage,
  workspace_not_a_folder: EXIT.usage,
  model_unavailable: EXIT.usage,
  model_english_only: EXIT.usage,
  engine_unavailable: EXIT.engine,
  transition_refused: EXIT.refused,
  task_busy: EXIT.refused,
  task_conflict: EXIT.refused,
  superseded: EXIT.refused,
  output_taken: EXIT.refused,
  disk_full: EXIT.unwritable,
  workspace_unwritable: EXIT.unwritable,
  canceled: EXIT.canceled,
  interrupted: EXIT.interrupted,
  cluster_unavailable: EXIT.clusterUnavailable,
  // What a task run meets: the task ended failed.
  media_unreadable: EXIT.failed,
  script_invalid: EXIT.failed,
  script_mismatch: EXIT.failed,
  engine_unknown: EXIT.failed,
  worker_crashed: EXIT.failed,
  stage_unknown: EXIT.failed,
  stage_input_missing: EXIT.failed,
  internal: EXIT.failed,
};

export function exitCodeFor(code: ErrorCode): ExitCode {
  return EXIT_CODE_OF[code];
}
