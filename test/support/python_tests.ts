/**
 * The engine's Python tests (unittest), run with the engine's interpreter so they are part of the
 * node suite: pure logic in test/unit/python, the worker with the real model in test/integration/python.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PACKAGE_DIR, resolveSettings } from "../../core/app/config.js";

/** Runs every test_*.py in `folder` (relative to the package) and fails with unittest's report if any fails. */
export function runPythonTests(folder: string): void {
  const tests = path.join(PACKAGE_DIR, folder);
  // test/conftest.py puts the engine's folders on sys.path (pytest would load it by itself).
  const discover = `import conftest, unittest; unittest.main(module=None, argv=["unittest", "discover", "-v", "-s", ${JSON.stringify(tests)}, "-p", "test_*.py"])`;
  const run = spawnSync(resolveSettings().python, ["-c", discover], {
    cwd: path.join(PACKAGE_DIR, "test"),
    encoding: "utf8",
    env: { ...process.env, HF_HUB_OFFLINE: "1" },
  });
  assert.equal(run.error, undefined, `cannot run the engine's Python: ${String(run.error)}`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /Ran [1-9]\d* tests?/, run.stderr);
}
