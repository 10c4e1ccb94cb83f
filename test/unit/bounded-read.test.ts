/**
 * Files we do not control are read only when they are regular files, up to a limit, and the read
 * can be aborted: /dev/zero, a FIFO or a huge file gets a clear refusal at once.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ReadRefused, formatBytes, readBoundedFile } from "../../core/app/bounded_read.js";
import { isSophiaError } from "../../core/app/errors.js";
import { TEXT_INPUT_MAX_BYTES, readUtf8File } from "../../core/app/utf8_file.js";

const CODES = { unreadable: "script_missing", invalid: "script_invalid" } as const;

describe("bounded reads", { timeout: 60_000 }, () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "sophia-read-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refusedWith = (problem: string, message: RegExp) => (error: unknown) => error instanceof ReadRefused && error.problem === problem && message.test(error.message);

  test("a regular file within the limit is read whole", async () => {
    const file = path.join(dir, "ok.txt");
    writeFileSync(file, "hello");
    assert.equal((await readBoundedFile(file, 5)).toString(), "hello");
  });

  test("/dev/zero, a FIFO and a folder are refused as not regular files", async () => {
    await assert.rejects(readBoundedFile("/dev/zero", 1024), refusedWith("not_regular", /is a character device, not a regular file/));
    const fifo = path.join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(readBoundedFile(fifo, 1024), refusedWith("not_regular", /is a FIFO \(named pipe\)/));
    await assert.rejects(readBoundedFile(dir, 1024), refusedWith("not_regular", /is a folder/));
  });

  test("a file over the limit is refused by its size; a missing one says so", async () => {
    const big = path.join(dir, "big.txt");
    writeFileSync(big, "");
    truncateSync(big, 100 * 1024 * 1024);
    await assert.rejects(readBoundedFile(big, TEXT_INPUT_MAX_BYTES), refusedWith("too_large", /is 100 MiB, over the limit of 4 MiB/));
    await assert.rejects(readBoundedFile(path.join(dir, "nope"), 10), refusedWith("missing", /does not exist/));
  });

  test("a file just over the limit says by how much, not a size that rounds to the limit itself", { timeout: 30_000 }, async () => {
    const over = path.join(dir, "just-over.txt");
    writeFileSync(over, "");
    truncateSync(over, TEXT_INPUT_MAX_BYTES + 46);
    await assert.rejects(readBoundedFile(over, TEXT_INPUT_MAX_BYTES), refusedWith("too_large", /is 4 MiB \+ 46 bytes, over the limit of 4 MiB/));
  });

  test("an aborted read stops with the abort's reason", async () => {
    const file = path.join(dir, "ok2.txt");
    writeFileSync(file, "hello");
    const controller = new AbortController();
    controller.abort(new Error("shutdown"));
    await assert.rejects(readBoundedFile(file, 10, controller.signal), /shutdown/);
  });

  test("text inputs map each refusal to the caller's codes, naming the file as the user wrote it", async () => {
    await assert.rejects(readUtf8File("/dev/zero", 'input.script "zero"', CODES), (error) => isSophiaError(error, "script_invalid") && /^input\.script "zero" is a character device, not a regular file/.test(error.message));
    await assert.rejects(readUtf8File(path.join(dir, "nope"), 'input.script "nope"', CODES), (error) => isSophiaError(error, "script_missing"));
  });

  test("sizes read as people write them", () => {
    assert.equal(formatBytes(512), "512 bytes");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(4 * 1024 * 1024), "4 MiB");
  });
});
