/**
 * The runner in-process with a fake stage (named as such): a preflight that is still checking its
 * inputs stops as soon as the runner is told to stop, and the task goes back to the queue.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { PreflightContext, Stage } from "../../core/app/stages/stage.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { specExampleTask } from "../support/harness.js";

/** A stage whose preflight never finishes on its own: like a check of a file on a hung disk. */
function fakeStageStuckInPreflight(onPreflight: () => void): Stage {
  return {
    name: "asr",
    outputs: (paths) => [paths.raw],
    preflight: ({ signal }: PreflightContext) =>
      new Promise((_resolve, reject) => {
        onPreflight();
        signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
      }),
    run: () => Promise.reject(new Error("the fake stage never runs")),
  };
}

describe("runner preflight", { timeout: 60_000 }, () => {
  let root: string;
  let store: TaskStore;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-runner-"));
    const workspace = new Workspace(path.join(root, "workspace"));
    mkdirSync(workspace.tasksDir, { recursive: true });
    store = new TaskStore(workspace);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test("a shutdown during preflight stops it and hands the task back", async () => {
    const stored = await store.create(specExampleTask({ pipeline: ["asr"], attempts: 0 }));
    let inPreflight: () => void = () => undefined;
    const preflightStarted = new Promise<void>((resolve) => (inPreflight = resolve));
    const runner = new TaskRunner({
      store,
      events: new EventWriter(store.workspace.eventsDir),
      stages: [fakeStageStuckInPreflight(inPreflight)],
      keepTmp: false,
    });
    const outcome = runner.run(stored);
    await preflightStarted;
    runner.shutdown();
    assert.deepEqual(await outcome, { kind: "handed_back", taskId: "subtitle_pipeline_001" });
    const after = await store.read(stored.file);
    assert.equal(after.task.status, "queued");
    assert.equal(await store.leaseHeld(stored.file), false);
  });
});
