/**
 * The worker's speech coverage logic (core/app/engines/faster_whisper/speech_coverage.py) is Python:
 * its unit tests are Python's unittest, run here with the engine's interpreter so they are part of
 * the suite. Pure logic: no model, no audio.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { resolvePython } from "../../core/app/engines/faster_whisper/engine.js";
import { projectRoot } from "../../core/app/project_root.js";

test("speech coverage: word-time repair, uncovered speech and merging a retry (Python unittest)", () => {
  const root = projectRoot();
  const run = spawnSync(resolvePython(root), ["-m", "unittest", "discover", "-v", "-s", path.join(root, "test", "unit", "python"), "-p", "test_*.py"], { encoding: "utf8" });
  assert.equal(run.error, undefined, `cannot run the engine's Python: ${String(run.error)}`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /Ran [1-9]\d* tests/, run.stderr);
});
