/**
 * How large a task file may be. One limit for what the app writes, and room above it for the
 * fields the runner adds, so that no task the runner accepted becomes unreadable by its own writes
 * (a claimed task once grew past the limit when rewritten pretty-printed, and stayed `running`).
 */

/**
 * The task's own fields, written compactly, are at most this: a task is about 1 KB, and 1 MiB leaves
 * the app room for fields of its own while a runner that reads every task file on every pass stays
 * fast and small whatever lands in the folder.
 */
export const TASK_FILE_MAX_BYTES = 1024 * 1024;

/** The fields the runner writes (spec §1.2), at most this much written compactly. */
export const RUNNER_FIELDS_MAX_BYTES = 32 * 1024;

/** What a file may take on disk: its fields, the runner's, and the indentation of a pretty-printed file. */
export const TASK_FILE_READ_MAX_BYTES = TASK_FILE_MAX_BYTES + 2 * RUNNER_FIELDS_MAX_BYTES;

/** The top-level fields the runner owns: it rewrites them, bounded, whatever the file held. */
export const RUNNER_FIELDS: ReadonlySet<string> = new Set(["status", "attempts", "started_at", "finished_at", "runner", "error"]);

/** A failure's message and stack as the runner records them: long enough for any traceback's start and end. */
export const ERROR_MESSAGE_MAX_CHARS = 4 * 1024;
export const ERROR_STACK_MAX_CHARS = 16 * 1024;

/** `text` cut to `max` characters, keeping its start and its end (where a traceback names the fault). */
export function clipped(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n… (${text.length - max} characters cut) …\n`;
  const keep = max - marker.length;
  return `${text.slice(0, Math.ceil(keep / 2))}${marker}${text.slice(text.length - Math.floor(keep / 2))}`;
}
