/**
 * The real EventWriter when its append fails: the error reaches the caller as a SophiaError that
 * names the stream (never swallowed), and the listener is not told of an event that is not on disk.
 * On a real full tmpfs where this machine can mount one (it skips, saying why, where it cannot;
 * scripts/test lists skips loudly), and on a day file that is a folder, which needs no mount.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { EventWriter, eventFilePath } from "../../core/app/task/events/event_writer.js";
import type { SophiaEvent } from "../../core/app/task/model/schema.js";
import { mountTmpfs, type Mounted } from "../support/mounts.js";

const subject = { task_id: "t1", run_id: null };

describe("event writer when the append fails", { timeout: 30_000 }, () => {
  let root: string;
  let mounted: Mounted | null = null;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-events-"));
  });
  after(() => {
    if (mounted?.ok) mounted.undo();
    rmSync(root, { recursive: true, force: true });
  });

  test("on a full disk: emit rejects with disk_full naming the event file, and the listener hears nothing", async (t) => {
    const eventsDir = path.join(root, "full");
    mkdirSync(eventsDir);
    mounted = mountTmpfs(eventsDir, 64 * 1024);
    if (!mounted.ok) return t.skip(mounted.reason);
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${path.join(eventsDir, "filler")}`, "bs=4k"], { stdio: "pipe" });
    } catch {
      // dd stops with ENOSPC: the disk is full, as wanted
    }
    const heard: SophiaEvent[] = [];
    const writer = new EventWriter(eventsDir, (event) => heard.push(event));
    await assert.rejects(writer.emit(subject, "task.created", { input: "media.wav" }), (error) => {
      assert.ok(isSophiaError(error, "disk_full"), String(error));
      assert.match((error as Error).message, /task\.created event to .*_events\.jsonl/);
      return true;
    });
    assert.deepEqual(heard, []);
  });

  test("on a day file that cannot be appended to: emit rejects with the cause, and the listener hears nothing", async () => {
    const eventsDir = path.join(root, "blocked");
    // Today's file (and tomorrow's, should the test straddle midnight UTC) is a folder.
    for (const at of [Date.now(), Date.now() + 86_400_000]) mkdirSync(eventFilePath(eventsDir, new Date(at).toISOString()), { recursive: true });
    const heard: SophiaEvent[] = [];
    const writer = new EventWriter(eventsDir, (event) => heard.push(event));
    await assert.rejects(writer.emit(subject, "task.created", { input: "media.wav" }), /EISDIR/);
    assert.deepEqual(heard, []);
  });
});
