/**
 * Reading a text file the user gave (a script, an SRT): a regular file of at most
 * TEXT_INPUT_MAX_BYTES, UTF-8 or a clear refusal, never text with replacement characters in it.
 * A byte-order mark is dropped.
 */
import { ReadRefused, readBoundedFile } from "./bounded_read.js";
import { SophiaError, type ErrorCode } from "./errors.js";

/**
 * 4 MiB: a two-hour script or SRT is about 150 KB, so this is 25 times the longest real one, and
 * refine over it still takes seconds, not minutes.
 */
export const TEXT_INPUT_MAX_BYTES = 4 * 1024 * 1024;

export interface TextFileErrors {
  /** Code when the file is not there or cannot be opened (no permission). */
  unreadable: ErrorCode;
  /** Code when it is there but unusable: not a regular file, over the size limit, not UTF-8. */
  invalid: ErrorCode;
}

/** `what` names the file in messages as the user wrote it, e.g. `input.script "talk.txt"`. */
export async function readUtf8File(absolute: string, what: string, codes: TextFileErrors, signal?: AbortSignal): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(absolute, TEXT_INPUT_MAX_BYTES, signal);
  } catch (error) {
    if (!(error instanceof ReadRefused)) throw error;
    const code = error.problem === "missing" || error.problem === "unreadable" ? codes.unreadable : codes.invalid;
    throw new SophiaError(code, `${what} ${error.message} (${absolute})`, { cause: error, details: { path: absolute } });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SophiaError(codes.invalid, `${what} is not UTF-8 text (${absolute}): save it as UTF-8`, { cause: error, details: { path: absolute } });
  }
}
