/**
 * The event writer when the disk fills mid-line, on a real tmpfs: the fragment a short write
 * leaves stays one unreadable line, and the next event, appended once there is space, is whole.
 */
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { EventReader } from "../../core/app/task/events/event_reader.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { mountTmpfs, type Mounted } from "../support/mounts.js";

/** Writes zeros into `file` until the tmpfs under it has no page left. */
function fillTheDisk(file: string): void {
  const fd = openSync(file, "w");
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
}

describe("event writer", { timeout: 30_000 }, () => {
  let root: string;
  let mounted: Mounted = { ok: false, reason: "not mounted" };
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-event-writer-"));
    mkdirSync(path.join(root, "events"));
    mounted = mountTmpfs(path.join(root, "events"), 64 * 1024);
  });
  after(() => {
    if (mounted.ok) mounted.undo();
    rmSync(root, { recursive: true, force: true });
  });

  test("an event appended after a line the full disk cut short is on a line of its own", { timeout: 30_000 }, async (t) => {
    if (!mounted.ok) return t.skip(`SKIPPED, no real full disk: ${mounted.reason}`);
    const events = path.join(root, "events");
    const writer = new EventWriter(events);
    await writer.emit({ task_id: "e1", run_id: "run_1" }, "task.created", { input: "media/talk.wav" });
    const filler = path.join(events, "filler");
    fillTheDisk(filler);
    // Longer than what is left of the event file's last page: the write stops part-way.
    const long = "x".repeat(8192);
    await assert.rejects(writer.emit({ task_id: "e1", run_id: "run_1" }, "stage.progress", { stage: "asr", progress: 0.5, msg: long }), (error) => isSophiaError(error, "disk_full"));
    rmSync(filler);
    await writer.emit({ task_id: "e2", run_id: "run_2" }, "task.created", { input: "media/other.wav" });

    const lines = await new EventReader(events).readNew();
    const e2 = lines.filter((line) => line.event?.task_id === "e2").map((line) => line.event?.type);
    assert.deepEqual(e2, ["task.created"], `e2's event is whole: ${JSON.stringify(lines.map((line) => line.event?.type ?? line))}`);
    assert.equal(lines.filter((line) => line.event === null).length, 1, "the cut line is reported as one unreadable line");
  });
});
