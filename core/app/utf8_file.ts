/**
 * Reading a text file the user gave (a script, an SRT): UTF-8 or a clear refusal, never text with
 * replacement characters in it. A byte-order mark is dropped.
 */
import { readFile } from "node:fs/promises";
import { SophiaError, type ErrorCode } from "./errors.js";

export interface TextFileErrors {
  /** Code when the file cannot be read at all (missing, a folder, no permission). */
  unreadable: ErrorCode;
  /** Code when its bytes are not UTF-8. */
  notUtf8: ErrorCode;
}

/** `what` names the file in messages as the user wrote it, e.g. `input.script "talk.txt"`. */
export async function readUtf8File(absolute: string, what: string, codes: TextFileErrors): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw new SophiaError(codes.unreadable, `${what} cannot be read (${absolute}): ${(error as Error).message}`, { cause: error, details: { path: absolute } });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new SophiaError(codes.notUtf8, `${what} is not UTF-8 text (${absolute}): save it as UTF-8`, { cause: error, details: { path: absolute } });
  }
}
