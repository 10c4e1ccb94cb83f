/**
 * Recovery in-process, on a real task store: what a runner that died leaves behind on a task the
 * user canceled meanwhile (its lease, its _tmp folder) is removed; a live runner's is not.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { recoverOrphans } from "../../core/app/task/recovery.js";
import { TaskStore } from "../../core/app/task/store.js";
import { fakeWorkspace, queueTask, type FakeWorkspace } from "../support/fake_pipeline.js";

describe("recovery (in-process)", () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());

  const canceledWhileRunning = (taskId: string, pid: number) => {
    const file = queueTask(fx.workspace, taskId, { status: "canceled", attempts: 1, runner: { host: hostname(), pid, started_at: "2026-02-06T10:31:00Z" } });
    mkdirSync(`${file}.lease`); // fresh: its runner was killed a moment ago
    mkdirSync(fx.workspace.tmpDir(taskId), { recursive: true });
    return file;
  };

  test("a canceled task whose runner died leaves no lease and no _tmp once the next runner looks", async () => {
    const file = canceledWhileRunning("canceled_then_killed", deadPid());
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.deepEqual(readdirSync(fx.workspace.tasksDir), [path.basename(file)]);
    assert.ok(!existsSync(fx.workspace.tmpDir("canceled_then_killed")));
  });

  test("the lease and _tmp of a live runner still stopping a canceled task are left alone", async () => {
    const file = canceledWhileRunning("canceled_and_stopping", process.pid);
    await recoverOrphans(new TaskStore(fx.workspace), fx.events);
    assert.ok(existsSync(`${file}.lease`));
    assert.ok(existsSync(fx.workspace.tmpDir("canceled_and_stopping")));
  });
});

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  return Number(spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
}
