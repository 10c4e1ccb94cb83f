/**
 * The one check that a named file is there before work starts on it: a missing path, a folder and a
 * FIFO are each refused with the code the caller chose and a message naming the file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { assertFileExists } from "../../core/app/file_exists.js";

const ERRORS = { missing: "media_missing", notAFile: "media_unreadable", ifMissing: "check the path", ifNotAFile: "give an audio file" } as const;

describe("file exists", { timeout: 60_000 }, () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "sophia-exists-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a regular file passes", async () => {
    const file = path.join(dir, "talk.wav");
    writeFileSync(file, "RIFF");
    await assertFileExists(file, 'input.media "talk.wav"', ERRORS);
  });

  test("a missing file is refused with the missing code, naming the file as written and where it was looked for", async () => {
    const file = path.join(dir, "nope.wav");
    await assert.rejects(
      assertFileExists(file, 'input.media "nope.wav"', ERRORS),
      (error) => isSophiaError(error, "media_missing") && error.message === `input.media "nope.wav" does not exist (looked for ${file}): check the path` && error.details.path === file,
    );
  });

  test("a folder or a FIFO is refused as not a regular file, saying what it is", async () => {
    await assert.rejects(
      assertFileExists(dir, "media", ERRORS),
      (error) => isSophiaError(error, "media_unreadable") && error.message === `media is a folder, not a regular file (${dir}): give an audio file`,
    );
    const fifo = path.join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(assertFileExists(fifo, "media", { missing: "media_missing", notAFile: "media_missing" }), (error) => isSophiaError(error, "media_missing") && /media is a FIFO \(named pipe\), not a regular file \(.*pipe\)$/.test(error.message));
  });
});
