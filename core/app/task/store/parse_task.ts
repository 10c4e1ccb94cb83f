/**
 * The task in a task file's bytes: UTF-8, JSON, not too deep, and the schema (zod). A module of its
 * own so that the store loads zod only when it has a file to read: a `list` whose every entry comes
 * from the task cache never does.
 */
import path from "node:path";
import { SophiaError, asError, describeIssues } from "../../errors.js";
import { TaskSchema, type Task } from "../model/schema.js";
import type { StoredTask } from "../model/stored_task.js";
import { TASK_FILE_SUFFIX, taskIdFromFileName } from "../model/task_file_name.js";
import { RUNNER_FIELDS, RUNNER_FIELDS_MAX_BYTES, TASK_FILE_MAX_BYTES } from "../model/task_file_limits.js";
import { formatBytes } from "../../bounded_read.js";

/**
 * JSON.parse takes any depth, but writing the task back (JSON.stringify) recurses and overflows the
 * stack near ten thousand levels; no task needs more than a handful.
 */
export const TASK_FILE_MAX_DEPTH = 64;

/** The schema check every task file passes, with the field at fault named; `where` is the file (or "new task"). */
export function validateTask(raw: unknown, where: string): Task {
  const result = TaskSchema.safeParse(raw);
  if (!result.success) {
    const problems = describeIssues(result.error);
    throw new SophiaError("task_invalid", `${path.basename(where)} does not match the task schema: ${problems}`, {
      details: { file: where, issues: result.error.issues },
    });
  }
  assertWithinLimits(raw as Record<string, unknown>, where);
  const fileId = where.endsWith(TASK_FILE_SUFFIX) ? taskIdFromFileName(path.basename(where)) : result.data.task_id;
  if (fileId !== result.data.task_id) {
    throw new SophiaError("task_invalid", `${path.basename(where)} names task "${fileId}" but its task_id is "${result.data.task_id}"`, { details: { file: where } });
  }
  return result.data;
}

/**
 * The task's own fields fit in TASK_FILE_MAX_BYTES written compactly, the runner's in
 * RUNNER_FIELDS_MAX_BYTES: so whatever the runner writes of a task it accepted, compactly if it must,
 * stays under what a reader takes (task_file_limits.ts).
 */
function assertWithinLimits(raw: Record<string, unknown>, where: string): void {
  const own = Buffer.byteLength(
    JSON.stringify(raw, function (this: unknown, key: string, value: unknown) {
      return this === raw && RUNNER_FIELDS.has(key) ? undefined : value;
    }),
  );
  if (own > TASK_FILE_MAX_BYTES) {
    throw new SophiaError("task_invalid", `${path.basename(where)} is ${formatBytes(own)} written compactly, over the limit of ${formatBytes(TASK_FILE_MAX_BYTES)}`, { details: { file: where } });
  }
  const runner = Buffer.byteLength(JSON.stringify([...RUNNER_FIELDS].map((field) => raw[field] ?? null)));
  if (runner > RUNNER_FIELDS_MAX_BYTES) {
    throw new SophiaError("task_invalid", `${path.basename(where)}'s runner fields (${[...RUNNER_FIELDS].join(", ")}) are ${formatBytes(runner)}, over the limit of ${formatBytes(RUNNER_FIELDS_MAX_BYTES)}`, { details: { file: where } });
  }
}

/** Without recursion, so that the check itself cannot overflow the stack. */
function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== "object") continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** The task in a task file's bytes: UTF-8, JSON, not too deep, and the schema. */
export function parseTask(file: string, bytes: Buffer): StoredTask {
  const text = decodeTaskText(file, bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the fault, newlines included: one line for the user.
    const reason = asError(error).message.replace(/\s+/g, " ");
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not valid JSON: ${reason}`, { cause: error, details: { file } });
  }
  if (nestsDeeperThan(raw, TASK_FILE_MAX_DEPTH)) {
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} nests objects or arrays deeper than ${TASK_FILE_MAX_DEPTH} levels`, { details: { file } });
  }
  return { file, raw: raw as Record<string, unknown>, task: validateTask(raw, file) };
}


function decodeTaskText(file: string, bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SophiaError("task_invalid", `task file ${path.basename(file)} is not UTF-8 text: JSON files are UTF-8`, { cause: error, details: { file } });
  }
}
