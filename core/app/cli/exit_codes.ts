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
    /** Stopped by SIGINT/SIGTERM; the task it was running is back in the queue. */
  interrupted: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "usage":
    case "task_not_found":
    case "task_invalid":
    case "media_missing":
    case "script_missing":
    case "srt_invalid":
    case "subtitles_invalid":
    case "output_outside_workspace":
    case "output_clobbers_input":
    case "output_reserved":
    case "workspace_missing":
    case "workspace_not_a_folder":
    case "model_unavailable":
    case "model_english_only":
      return EXIT.usage;
    case "transition_refused":
    case "task_busy":
    case "task_conflict":
    case "superseded":
    case "output_taken":
      return EXIT.refused;
    case "disk_full":
    case "workspace_unwritable":
      return EXIT.unwritable;
    case "canceled":
      return EXIT.canceled;
    case "interrupted":
      return EXIT.interrupted;
    default:
      return EXIT.failed;
  }
}
