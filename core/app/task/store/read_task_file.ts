/**
 * Reading a task file: its bytes, bounded (a task file is small, whatever lands in the folder), a
 * refusal turned into the task error that names the file, and the parser, loaded on first use: a
 * `list` served by the task cache reads no file, so needs no zod.
 */
import path from "node:path";
import { ReadRefused, formatBytes, readBoundedFileSync } from "../../bounded_read.js";
import { SophiaError } from "../../errors.js";
import { RUNNER_FIELDS_MAX_BYTES, TASK_FILE_MAX_BYTES, TASK_FILE_READ_MAX_BYTES } from "../model/task_file_limits.js";

let parserModule: Promise<typeof import("./parse_task.js")> | null = null;
/** parse_task.ts (zod and the schema), loaded when a file must first be read. */
export const taskParser = () => (parserModule ??= import("./parse_task.js"));

export function readTaskBytes(file: string): Buffer {
  return readBoundedFileSync(file, TASK_FILE_READ_MAX_BYTES);
}

/**
 * A task file's JSON, for a cache entry whose own copy is damaged: the file matched the entry's
 * stamp, so it is the file that was validated then (a file that no longer parses is invalid now).
 */
export function rawOfFile(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readTaskBytes(file).toString("utf8"));
  } catch (error) {
    if (error instanceof ReadRefused) throw readRefusal(file, error);
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not valid JSON`, { cause: error, details: { file } });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not a JSON object`, { details: { file } });
  return raw as Record<string, unknown>;
}

export function readRefusal(file: string, error: unknown): unknown {
  if (!(error instanceof ReadRefused)) return error;
  if (error.problem === "missing") return new SophiaError("task_not_found", `task file ${file} does not exist`, { cause: error });
  const message =
    error.problem === "too_large"
      ? `${error.message.replace(`over the limit of ${formatBytes(TASK_FILE_READ_MAX_BYTES)}`, `over the limit of ${formatBytes(TASK_FILE_MAX_BYTES)}`)} (and ${formatBytes(RUNNER_FIELDS_MAX_BYTES)} for the runner's fields)`
      : error.message;
  return new SophiaError("task_invalid", `task file ${path.basename(file)} ${message}`, { cause: error, details: { file } });
}
