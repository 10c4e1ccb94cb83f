/**
 * Reading a file whose size and kind we do not control (a task file, a script, an SRT) without
 * letting it take the process down: only regular files, at most `maxBytes`, abortable between chunks.
 *
 * `/dev/zero` would otherwise be read until memory runs out, and opening a FIFO would wait for a
 * writer forever in a libuv thread that no signal can free (the process then cannot even exit).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { asError } from "./errors.js";

export type ReadProblem = "missing" | "unreadable" | "not_regular" | "too_large";

/** Why a file was not read; callers turn it into the SophiaError their context calls for. */
export class ReadRefused extends Error {
  constructor(
    readonly problem: ReadProblem,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = "ReadRefused";
  }
}

const CHUNK_BYTES = 1 << 20;

export async function readBoundedFile(absolute: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  signal?.throwIfAborted();
  let handle: FileHandle;
  try {
    // O_NONBLOCK makes opening a FIFO return at once (it is then refused as not regular); for a
    // regular file it changes nothing.
    handle = await open(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw openRefused(error);
  }
  try {
    const info = await handle.stat();
    checkReadable(info, maxBytes);
    return await readAtMost(handle, maxBytes, info.size, signal);
  } finally {
    await handle.close();
  }
}

/**
 * The same read without the thread pool, for many small files at once (a task folder): on a loaded
 * machine each of the async read's five hand-offs to a libuv thread waits for a time slice.
 */
export function readBoundedFileSync(absolute: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw openRefused(error);
  }
  try {
    const info = fstatSync(fd);
    checkReadable(info, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(nextChunkBytes(total, info.size, maxBytes));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new ReadRefused("too_large", `grew past the limit of ${formatBytes(maxBytes)} while being read`);
    }
  } finally {
    closeSync(fd);
  }
}

function openRefused(error: unknown): ReadRefused {
  const code = (error as NodeJS.ErrnoException).code;
  return new ReadRefused(code === "ENOENT" || code === "ENOTDIR" ? "missing" : "unreadable", code === "ENOENT" ? "does not exist" : asError(error).message, { cause: error });
}

function checkReadable(info: Stats, maxBytes: number): void {
  if (!info.isFile()) throw new ReadRefused("not_regular", `is ${kindOf(info)}, not a regular file`);
  if (info.size > maxBytes) throw new ReadRefused("too_large", `is ${sizeOver(info.size, maxBytes)}, over the limit of ${formatBytes(maxBytes)}`);
}

/** Reads to the end, refusing once more than `maxBytes` arrive (the file may grow while it is read). */
async function readAtMost(handle: FileHandle, maxBytes: number, expectedBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const chunk = Buffer.allocUnsafe(nextChunkBytes(total, expectedBytes, maxBytes));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw new ReadRefused("too_large", `grew past the limit of ${formatBytes(maxBytes)} while being read`);
  }
}

/**
 * Sized to the file first, then growing from a small probe: a fresh MiB per file (zero-filled, as
 * it was) made reading 10,000 task files of 1 KB take minutes. Only the bytes read are ever kept,
 * so the buffer need not be zeroed.
 */
function nextChunkBytes(total: number, expectedBytes: number, maxBytes: number): number {
  const wanted = total === 0 ? expectedBytes + 1 : Math.max(4096, total);
  return Math.min(wanted, CHUNK_BYTES, maxBytes + 1 - total);
}

/** A size over a limit, exact where rounding would show it equal to the limit ("4 MiB, over the limit of 4 MiB"). */
function sizeOver(size: number, maxBytes: number): string {
  return formatBytes(size) === formatBytes(maxBytes) ? `${formatBytes(maxBytes)} + ${size - maxBytes} bytes` : formatBytes(size);
}

/** What a path that is not a regular file is, for messages: "a folder", "a FIFO (named pipe)", ... */
export function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a folder";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "not a file";
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}
