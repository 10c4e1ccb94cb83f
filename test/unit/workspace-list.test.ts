/**
 * The library's `list()`: what an app gets for each task file, however the store came by it (read
 * now, or a finished task from the store's cache file, whose `task` and `raw` are parsed when asked for).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { openWorkspace } from "../../core/app/open_workspace.js";
import { specExampleTask } from "../support/harness.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "sophia-list-"));
  mkdirSync(path.join(root, "workspace", "tasks"), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test("a listed task carries its id, status, created_at and media, and its task and raw survive JSON and structured clone (an app's IPC)", { timeout: 60_000 }, async () => {
  const raw = specExampleTask({ task_id: "kept", status: "done", attempts: 1, app_field: { nested: [1, null] } });
  writeFileSync(path.join(root, "workspace", "tasks", "20260206_kept.task.json"), JSON.stringify(raw));
  const [entry] = await openWorkspace({ workspace: path.join(root, "workspace") }).list();
  assert.ok(entry?.valid);
  assert.deepEqual([entry.id, entry.status, entry.created_at, entry.media], ["kept", "done", "2026-02-06T10:30:00Z", "workspace/inbox/meeting_audio.mp3"]);
  assert.deepEqual(entry.raw, raw);
  assert.deepEqual(JSON.parse(JSON.stringify(entry)).raw, raw);
  assert.deepEqual(structuredClone(entry).task, entry.task);
});
