/**
 * Preflight's model lookup runs the engine's Python; a runner told to stop must not wait for it
 * (with downloads allowed it may take minutes). A fake interpreter (named as such) that never
 * answers stands in for a slow lookup.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { findModel } from "../../core/app/engines/faster_whisper/models.js";

describe("model lookup", { timeout: 60_000 }, () => {
  let dir: string;
  let fakePython: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sophia-lookup-"));
    fakePython = path.join(dir, "fake-python-that-never-answers");
    writeFileSync(fakePython, "#!/bin/sh\nexec sleep 600\n");
    chmodSync(fakePython, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("an aborted lookup rejects with the abort's reason and kills the lookup process", { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    const lookup = findModel("medium", true, { python: fakePython }, controller.signal);
    setTimeout(() => controller.abort(new Error("fake shutdown")), 100);
    await assert.rejects(lookup, /fake shutdown/);
  });
});
