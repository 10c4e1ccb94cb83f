/**
 * `submit` is all or nothing: a task whose task.created event cannot be written is taken back. With
 * an event writer that fails its append (a fake, named as such), as a disk that fills up would.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { EngineRegistry } from "../../core/app/engines/registry.js";
import { isSophiaError } from "../../core/app/errors.js";
import { writeFailure } from "../../core/app/fs_errors.js";
import { submitTask } from "../../core/app/control.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { Workspace } from "../../core/app/task/model/workspace.js";

/** Appends nothing: every emit fails as a full disk makes it fail. */
class FakeFullDiskEventWriter extends EventWriter {
  override emit(): never {
    throw writeFailure(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }), "append a task.created event");
  }
}

/** Finds every model without looking (a fake): these tests are about the event write, not models. */
const FAKE_ENGINES = { get: () => ({ check: () => Promise.resolve(), checkMedia: () => Promise.resolve() }) } as unknown as EngineRegistry;

describe("submit", { timeout: 60_000 }, () => {
  let root: string;
  let store: TaskStore;
  let media: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-submit-"));
    const workspace = new Workspace(path.join(root, "workspace"));
    mkdirSync(path.join(workspace.dir, "inbox"), { recursive: true });
    media = path.join(workspace.dir, "inbox", "a.wav");
    writeFileSync(media, "RIFF");
    store = new TaskStore(workspace);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test("when the task.created event cannot be written, the task file is taken back and the error is disk_full", async () => {
    const events = new FakeFullDiskEventWriter(store.workspace.eventsDir);
    await assert.rejects(submitTask(store, events, FAKE_ENGINES, { media, taskId: "taken_back" }), (error) => isSophiaError(error, "disk_full") && /no space left on the disk/.test(error.message));
    assert.deepEqual(readdirSync(store.workspace.tasksDir).filter((name) => !name.startsWith(".")), []);
  });
});
