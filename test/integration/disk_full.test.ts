/**
 * A full disk, on a real tmpfs: where the task file can still be written, the task fails with a
 * clear disk_full error; where it cannot, the task is left recoverable, `run` says so and exits 5,
 * and once there is space again the next runner recovers it and runs it to the end. Never
 * "skipped", never "recovered from a dead runner" while its runner is alive.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { SENTENCE, cli, readEvents, readTask, speech, startCli, collect, specExampleTask, dropTask, waitFor, type TestWorkspace } from "../support/harness.js";
import { mountTmpfs, type Mounted } from "../support/mounts.js";

/** Fills the tmpfs that holds `dir` to the last byte (never any other file system). */
function fill(dir: string): string {
  const fsType = execFileSync("findmnt", ["-n", "-o", "FSTYPE", "-T", dir], { encoding: "utf8" }).trim();
  assert.equal(fsType, "tmpfs", `${dir} is on ${fsType}: only a test tmpfs is ever filled`);
  const filler = path.join(dir, "filler");
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"], { stdio: "pipe" });
  } catch {
    // dd stops with ENOSPC: the disk is full, as wanted
  }
  return filler;
}

describe("disk full", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;
  const mounts: Array<Extract<Mounted, { ok: true }>> = [];

  before(() => {
    // The media lives outside the workspace, so that only the workspace's disk fills up.
    const root = mkdtempSync(path.join(tmpdir(), "sophia-full-"));
    ws = { root, dir: path.join(root, "workspace"), tasksDir: path.join(root, "workspace", "tasks"), inbox: path.join(root, "media") };
    mkdirSync(ws.dir);
    mkdirSync(ws.inbox);
    speech(ws, "talk.wav", SENTENCE);
  });
  after(() => {
    for (const mounted of mounts.reverse()) mounted.undo();
    rmSync(ws.root, { recursive: true, force: true });
  });

  function mounted(dir: string, bytes: number): boolean {
    mkdirSync(dir, { recursive: true });
    const result = mountTmpfs(dir, bytes);
    if (result.ok) mounts.push(result);
    return result.ok;
  }

  let workspaceMounted = false;
  /** The whole workspace on a small tmpfs of its own (once per file). */
  function workspaceOnTmpfs(): boolean {
    if (workspaceMounted) return true;
    rmSync(ws.tasksDir, { recursive: true, force: true });
    if (!mounted(ws.dir, 256 * 1024)) return false;
    mkdirSync(ws.tasksDir);
    workspaceMounted = true;
    return true;
  }

  const task = (taskId: string) =>
    specExampleTask({
      task_id: taskId,
      pipeline: ["asr"],
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" } },
      input: { media: "media/talk.wav", script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt` },
    });

  test("outputs on a full disk: the task fails with a clear disk_full error, recorded in the task and the stream", async (t) => {
    mkdirSync(ws.tasksDir, { recursive: true });
    const outputs = path.join(ws.dir, "outputs");
    if (!mounted(outputs, 64 * 1024)) return t.skip("cannot mount a tmpfs here (needs root)");
    fill(outputs);
    dropTask(ws, task("outputs_full"));
    const result = await cli(ws, ["run", "--task", "outputs_full", "--no-progress"]);
    assert.equal(result.code, 1, result.stderr);
    const stored = readTask(ws, "outputs_full");
    assert.equal(stored.status, "failed");
    const error = stored.error as { code: string; message: string };
    assert.equal(error.code, "disk_full");
    assert.match(error.message, /^cannot write .*outputs\/.*: no space left on the disk \(ENOSPC\); free some space and try again$/);
    const failed = readEvents(ws, "outputs_full").filter((event) => event.type === "task.failed");
    assert.equal(failed.length, 1);
    assert.doesNotMatch(result.stderr, /skipped|dead runner/);
    mounts.pop()?.undo();
  });

  test("a workspace full before the claim: the task is not started, stays queued, and run exits 5 saying so", async (t) => {
    if (!workspaceOnTmpfs()) return t.skip("cannot mount a tmpfs here (needs root)");
    dropTask(ws, task("never_claimed"));
    const filler = fill(ws.dir);
    const result = await cli(ws, ["run", "--no-progress"]);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /task never_claimed not recorded: cannot .*no space left on the disk.*; it was not started and stays queued/);
    assert.doesNotMatch(result.stderr, /skipped|dead runner/);
    assert.equal(readTask(ws, "never_claimed").status, "queued");
    rmSync(filler);
    rmSync(path.join(ws.tasksDir, "20260206_never_claimed.task.json"));
  });

  test("a workspace that fills up mid-run: the task stays running and recoverable, exit 5; with space again the next runner finishes it", async (t) => {
    if (!workspaceOnTmpfs()) return t.skip("cannot mount a tmpfs here (needs root)");
    dropTask(ws, task("filled_mid_run"));
    const runner = startCli(ws, ["run", "--task", "filled_mid_run", "--no-progress"]);
    const finished = collect(runner);
    await waitFor("the asr stage to start", () => readEvents(ws, "filled_mid_run").some((event) => event.type === "stage.started"), 60_000, 20);
    const filler = fill(ws.dir);
    const result = await finished;
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /task filled_mid_run not recorded: cannot write .*: no space left on the disk.*it stays running/);
    assert.doesNotMatch(result.stderr, /skipped|dead runner/);
    assert.equal(readTask(ws, "filled_mid_run").status, "running");

    rmSync(filler);
    const again = await cli(ws, ["run", "--no-progress"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /recovered task filled_mid_run from a dead runner: requeued/);
    const stored = readTask(ws, "filled_mid_run");
    assert.equal(stored.status, "done");
    assert.ok(readFileSync(path.join(ws.dir, "outputs", "filled_mid_run.raw.srt"), "utf8").length > 0);
    assert.equal(readEvents(ws, "filled_mid_run").filter((event) => event.type === "task.completed").length, 1);
  });
});
