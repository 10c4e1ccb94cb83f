/**
 * The worker's speech coverage logic (core/app/engines/faster_whisper/speech_coverage.py) is Python:
 * its unit tests are Python's unittest, run here with the engine's interpreter so they are part of
 * the suite. Pure logic: no model, no audio.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { PACKAGE_DIR, resolveSettings } from "../../core/app/config.js";

test("speech coverage: word-time repair, uncovered speech, decoding a span again and merging it (Python unittest)", () => {
  const tests = path.join(PACKAGE_DIR, "test", "unit", "python");
  const run = spawnSync(resolveSettings().python, ["-m", "unittest", "discover", "-v", "-s", tests, "-p", "test_*.py"], { encoding: "utf8" });
  assert.equal(run.error, undefined, `cannot run the engine's Python: ${String(run.error)}`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /Ran [1-9]\d* tests/, run.stderr);
});
