/**
 * The few ways a write to the workspace fails that a user must act on, as SophiaErrors with one
 * clear line: the disk is full, or the folder cannot be written (read-only, no permission).
 * Anything else stays the error it was.
 */
import { SophiaError } from "./errors.js";

/** `what` says what was being written, e.g. `write workspace/tasks/x.task.json`. */
export function writeFailure(thrown: unknown, what: string): unknown {
  const code = (thrown as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new SophiaError("disk_full", `cannot ${what}: no space left on the disk (${code}); free some space and try again`, { cause: thrown, details: { errno: code } });
    case "EROFS":
      return new SophiaError("workspace_unwritable", `cannot ${what}: the file system is read-only (EROFS)`, { cause: thrown, details: { errno: code } });
    case "EACCES":
    case "EPERM":
      return new SophiaError("workspace_unwritable", `cannot ${what}: permission denied (${code})`, { cause: thrown, details: { errno: code } });
    default:
      return thrown;
  }
}
