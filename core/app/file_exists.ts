/**
 * The one check that a file a task or a user names is there before work starts on it: a regular
 * file, since a FIFO or a device would hang or flood whatever reads it, and a folder is a slip.
 */
import { stat } from "node:fs/promises";
import { kindOf } from "./bounded_read.js";
import { SophiaError, type ErrorCode } from "./errors.js";

export interface FileExistsErrors {
  /** Code when nothing is at the path. */
  missing: ErrorCode;
  /** Code when something is there that is not a regular file (a folder, a FIFO, a device). */
  notAFile: ErrorCode;
  /** What to do about a missing file, for the end of the message. */
  ifMissing?: string;
  /** What to do about something that is not a regular file, for the end of the message. */
  ifNotAFile?: string;
}

/** `what` names the file as the user wrote it (`input.media "talk.wav"`); the message adds where it was looked for. */
export async function assertFileExists(absolute: string, what: string, errors: FileExistsErrors): Promise<void> {
  const info = await stat(absolute).catch(() => null);
  if (!info) throw new SophiaError(errors.missing, `${what} does not exist (looked for ${absolute})${advice(errors.ifMissing)}`, { details: { path: absolute } });
  if (!info.isFile()) throw new SophiaError(errors.notAFile, `${what} is ${kindOf(info)}, not a regular file (${absolute})${advice(errors.ifNotAFile)}`, { details: { path: absolute } });
}

function advice(text: string | undefined): string {
  return text ? `: ${text}` : "";
}
