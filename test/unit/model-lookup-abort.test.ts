/**
 * Preflight's model lookup runs the engine's Python; a runner told to stop must not wait for it
 * (with downloads allowed it may take minutes). A fake interpreter (named as such) that never
 * answers stands in for a slow lookup.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { findModel } from "../../core/app/engines/faster_whisper/models.js";

describe("model lookup", { timeout: 60_000 }, () => {
  let dir: string;
  let fakePython: string;
  let pidFile: string;
  const lookupPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : null);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sophia-lookup-"));
    pidFile = path.join(dir, "lookup.pid");
    fakePython = path.join(dir, "fake-python-that-never-answers");
    // `exec` keeps the shell's pid, so the pid written is the process the lookup must kill.
    writeFileSync(fakePython, `#!/bin/sh\necho $$ > "${pidFile}"\nexec sleep 600\n`);
    chmodSync(fakePython, 0o755);
  });
  after(() => {
    // Never leave the fake behind, whatever the test found: an orphan would keep this file running.
    const pid = lookupPid();
    if (pid !== null && alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("an aborted lookup rejects with the abort's reason and kills the lookup process", { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    const lookup = findModel("medium", true, { python: fakePython }, controller.signal);
    const started = Date.now();
    while (lookupPid() === null && Date.now() - started < 20_000) await sleep(20);
    const pid = lookupPid();
    assert.ok(pid !== null && alive(pid), "the lookup process is running before the abort");
    controller.abort(new Error("fake shutdown"));
    await assert.rejects(lookup, /fake shutdown/);
    // The kill is a signal: give the child a moment to die and be reaped.
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    assert.equal(alive(pid), false, `the lookup process ${pid} is dead`);
  });
});
