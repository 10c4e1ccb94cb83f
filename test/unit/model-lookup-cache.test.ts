/**
 * submit and preflight check the model of every task, and each lookup starts the engine's Python:
 * the engine remembers a model it found, while that model is still where it was found. A wrapper
 * around the real venv Python (named as such) counts the lookups.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { FasterWhisperEngine } from "../../core/app/engines/faster_whisper/engine.js";
import { bundledModelDir, VENV_PYTHON, whisperConfig } from "../support/harness.js";

describe("model lookups", { timeout: 60_000 }, () => {
  let dir: string;
  let countingPython: string;
  let calls: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sophia-lookup-cache-"));
    calls = path.join(dir, "calls");
    writeFileSync(calls, "");
    countingPython = path.join(dir, "counting-python");
    writeFileSync(countingPython, `#!/bin/sh\necho "$2 $3" >> '${calls}'\nexec '${VENV_PYTHON}' "$@"\n`);
    chmodSync(countingPython, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lookups = () => readFileSync(calls, "utf8").split("\n").filter(Boolean);

  test("a model found once is not looked up again for the next task", async () => {
    writeFileSync(calls, "");
    const engine = new FasterWhisperEngine({ python: countingPython, modelsDir: path.join(dir, "no-models"), maxWorkers: 1 });
    for (let k = 0; k < 3; k++) assert.equal((await engine.check(whisperConfig("tiny.en", { language: "en" }))).source, "bundled");
    assert.deepEqual(lookups(), ["find tiny.en"]);
  });

  test("a model removed, or one that appears in workspace/models, is looked up again", async () => {
    writeFileSync(calls, "");
    const modelsDir = path.join(dir, "models");
    const own = path.join(modelsDir, "mine");
    mkdirSync(own, { recursive: true });
    for (const name of readdirSync(bundledModelDir())) symlinkSync(path.join(bundledModelDir(), name), path.join(own, name));
    const engine = new FasterWhisperEngine({ python: countingPython, modelsDir, maxWorkers: 1 });
    assert.equal((await engine.check(whisperConfig("mine", { language: "en" }))).source, "models_dir");
    rmSync(own, { recursive: true });
    await assert.rejects(engine.check(whisperConfig("mine", { language: "en" })), { code: "model_unavailable" });

    assert.equal((await engine.check(whisperConfig("tiny.en", { language: "en" }))).source, "bundled");
    mkdirSync(path.join(modelsDir, "tiny.en"));
    for (const name of readdirSync(bundledModelDir())) symlinkSync(path.join(bundledModelDir(), name), path.join(modelsDir, "tiny.en", name));
    assert.equal((await engine.check(whisperConfig("tiny.en", { language: "en" }))).source, "models_dir");
    assert.deepEqual(lookups(), ["find mine", "find mine", "find tiny.en", "find tiny.en"]);
  });
});
