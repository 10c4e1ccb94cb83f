/**
 * Outputs never collide: the ownership rule over real task files in a temp workspace (no engine).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { EngineRegistry } from "../../core/app/engines/registry.js";
import { isSophiaError } from "../../core/app/errors.js";
import { createStages } from "../../core/app/stages/index.js";
import { submitTask } from "../../core/app/control.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { assertOutputsFree } from "../../core/app/runner/output_owners.js";
import type { Task } from "../../core/app/task/model/schema.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { FULL_CHECK_MS } from "../../core/app/task/store/stamp_cache.js";
import { resolveTaskPaths } from "../../core/app/task/model/task_paths.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { specExampleTask } from "../support/harness.js";

describe("output ownership", { timeout: 60_000 }, () => {
  let root: string;
  let store: TaskStore;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-owners-"));
    store = new TaskStore(new Workspace(path.join(root, "workspace")));
    mkdirSync(store.workspace.tasksDir, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A task file as the app writes it, with the given status and fields. */
  function put(taskId: string, fields: Record<string, unknown>): Task {
    const task = specExampleTask({ task_id: taskId, ...fields }) as Task;
    writeFileSync(path.join(store.workspace.tasksDir, `20260206_${taskId}.task.json`), JSON.stringify(task));
    return task;
  }
  const stages = createStages(undefined as unknown as EngineRegistry); // only their output declarations are used
  const starting = (task: Task) => assertOutputsFree(store, task, resolveTaskPaths(task, store.workspace), stages, { when: "start", file: path.join(store.workspace.tasksDir, `20260206_${task.task_id}.task.json`) });
  const submitting = (task: Task) => assertOutputsFree(store, task, resolveTaskPaths(task, store.workspace), stages, { when: "submit" });
  const running = (at: string) => ({ status: "running", started_at: at, attempts: 1, runner: { host: "h", pid: 1, started_at: at } });

  test("a done task's output is refused to the next task, naming the field, the file and the owner", async () => {
    put("first", { status: "done" });
    const second = put("second", running("2026-02-06T11:00:00Z"));
    await assert.rejects(
      starting(second),
      (error) =>
        isSophiaError(error, "output_taken") &&
        error.message === 'output.raw_srt workspace/outputs/subtitles/raw/meeting_audio.raw.srt belongs to task first (done); choose another path, or set "overwrite": true under "output" to replace it',
    );
  });

  test("output.overwrite lets a task replace another's output", async () => {
    put("first", { status: "done" });
    const second = put("second", { ...running("2026-02-06T11:00:00Z"), output: { ...(specExampleTask().output as object), overwrite: true } });
    await starting(second);
  });

  test("failed and canceled tasks own nothing; a queued one owns only against a submit", async () => {
    put("failed_one", { status: "failed" });
    put("canceled_one", { status: "canceled" });
    const later = put("later", running("2026-02-06T11:00:00Z"));
    await starting(later);
    put("queued_one", { status: "queued" });
    await starting(later);
    rmSync(path.join(store.workspace.tasksDir, "20260206_later.task.json"));
    await assert.rejects(submitting(specExampleTask({ task_id: "new_one" }) as Task), (error) => isSophiaError(error, "output_taken") && /belongs to task queued_one \(queued\)/.test(error.message));
  });

  test("of two running tasks with one output, the one that started first owns it, whichever checks first", async () => {
    const early = put("early", running("2026-02-06T11:00:00.000Z"));
    const late = put("late", running("2026-02-06T11:00:00.500Z"));
    await starting(early);
    await assert.rejects(starting(late), (error) => isSophiaError(error, "output_taken") && /belongs to task early \(running\)/.test(error.message));
  });

  test("only files a pipeline writes are owned: a refine-only task reads the raw SRT another task wrote", async () => {
    put("asr_task", { status: "done", pipeline: ["asr", "refine"] });
    const rerefine = put("rerefine", { ...running("2026-02-06T11:00:00Z"), pipeline: ["refine"], output: { raw_srt: "workspace/outputs/subtitles/raw/meeting_audio.raw.srt", refined_srt: "workspace/outputs/again.srt" } });
    await starting(rerefine);
  });

  test("every format counts, and a symbolic link does not hide a collision", async () => {
    put("vtt_owner", { status: "done", output: { refined_srt: "workspace/outputs/a/talk.srt", formats: ["srt", "vtt"] } });
    mkdirSync(path.join(store.workspace.outputsDir, "a"), { recursive: true });
    symlinkSync(path.join(store.workspace.outputsDir, "a"), path.join(store.workspace.outputsDir, "link"));
    const other = put("other", { ...running("2026-02-06T11:00:00Z"), output: { raw_srt: "workspace/outputs/other.raw.srt", refined_srt: "workspace/outputs/link/talk.subs", formats: ["vtt"] } });
    await assert.rejects(starting(other), (error) => isSophiaError(error, "output_taken") && /^output\.formats "vtt" workspace\/outputs\/link\/talk\.vtt belongs to task vtt_owner/.test(error.message));
  });

  describe("with the store's cache and output index warm (a fake clock ahead of the files, so they are cached)", () => {
    let fakeNow: number;
    beforeEach(() => {
      fakeNow = Date.now() + 10_000;
      store = new TaskStore(store.workspace, { now: () => fakeNow });
    });

    test("a task file another process writes after the index was built is seen at a start once the watcher names it", async () => {
      const second = put("second", running("2026-02-06T11:00:00Z"));
      await starting(second);
      put("first", { status: "done" }); // written by another process: this store has not listed it
      store.forget(path.join(store.workspace.tasksDir, "20260206_first.task.json"));
      fakeNow += 1_000;
      await assert.rejects(starting(second), (error) => isSophiaError(error, "output_taken") && /belongs to task first \(done\)/.test(error.message));
    });

    test("without a watcher, a task file written after the last listing is seen at a start once that listing is FULL_CHECK_MS old", async () => {
      const second = put("second", running("2026-02-06T11:00:00Z"));
      await starting(second);
      put("first", { status: "done" });
      fakeNow += FULL_CHECK_MS;
      await assert.rejects(starting(second), (error) => isSophiaError(error, "output_taken") && /belongs to task first \(done\)/.test(error.message));
    });

    test("a failed task retried and started by another process owns its outputs at once, though finished tasks are trusted between passes", async () => {
      const earlyFile = path.join(store.workspace.tasksDir, "20260206_early.task.json");
      put("early", { status: "failed", attempts: 1 });
      const late = put("late", running("2026-02-06T11:00:00.500Z"));
      await starting(late); // lists the folder: `early` is cached as failed
      await store.list();
      // Another runner retried it and started it first (written as a runner writes: a new file renamed over the old).
      writeFileSync(`${earlyFile}.new`, JSON.stringify(specExampleTask({ task_id: "early", ...running("2026-02-06T11:00:00.000Z") })));
      renameSync(`${earlyFile}.new`, earlyFile);
      fakeNow += 1_000; // well inside FULL_CHECK_MS: a plain list would still trust the failed status
      await assert.rejects(starting(late), (error) => isSophiaError(error, "output_taken") && /belongs to task early \(running\)/.test(error.message));
    });

    test("at a start a file with a run lease beside it is stamped, though the index did not name it: another runner's start is seen at once", async () => {
      const elsewhere = { output: { raw_srt: "workspace/outputs/elsewhere.raw.srt", refined_srt: "workspace/outputs/elsewhere.srt" } };
      put("other", elsewhere);
      const late = put("late", running("2026-02-06T11:00:00.500Z"));
      await starting(late); // builds the index: neither declares late's outputs
      const otherFile = path.join(store.workspace.tasksDir, "20260206_other.task.json");
      mkdirSync(`${otherFile}.lease`); // another runner is taking `other`
      await store.list(); // a pass lists the folder: the lease is in that listing
      // Its claim came with outputs edited to late's (written as a runner writes: a new file renamed over the old).
      writeFileSync(`${otherFile}.new`, JSON.stringify(specExampleTask({ task_id: "other", ...running("2026-02-06T11:00:00.000Z") })));
      renameSync(`${otherFile}.new`, otherFile);
      fakeNow += 1_000;
      await assert.rejects(starting(late), (error) => isSophiaError(error, "output_taken") && /belongs to task other \(running\)/.test(error.message));
    });

    test("at a start a file the watcher named is stamped, though the index did not name it and the lease came after the last listing", async () => {
      const elsewhere = { output: { raw_srt: "workspace/outputs/elsewhere.raw.srt", refined_srt: "workspace/outputs/elsewhere.srt" } };
      put("other", elsewhere);
      const late = put("late", running("2026-02-06T11:00:00.500Z"));
      await starting(late);
      await starting(late); // a check over an unchanged folder
      const otherFile = path.join(store.workspace.tasksDir, "20260206_other.task.json");
      writeFileSync(`${otherFile}.new`, JSON.stringify(specExampleTask({ task_id: "other", ...running("2026-02-06T11:00:00.000Z") })));
      renameSync(`${otherFile}.new`, otherFile);
      mkdirSync(`${otherFile}.lease`);
      store.forget(otherFile);
      fakeNow += 1_000;
      await assert.rejects(starting(late), (error) => isSophiaError(error, "output_taken") && /belongs to task other \(running\)/.test(error.message));
    });

    test("a task whose file is removed no longer owns anything; a done task edited by hand is seen at the next full check", async () => {
      put("first", { status: "done" });
      const second = put("second", running("2026-02-06T11:00:00Z"));
      await assert.rejects(starting(second), (error) => isSophiaError(error, "output_taken"));
      put("first", { status: "done", output: { raw_srt: "workspace/outputs/elsewhere.raw.srt", refined_srt: "workspace/outputs/elsewhere.srt" } });
      fakeNow += FULL_CHECK_MS;
      await starting(second);
      put("first", { status: "done" });
      fakeNow += FULL_CHECK_MS;
      await assert.rejects(starting(second), (error) => isSophiaError(error, "output_taken"));
      rmSync(path.join(store.workspace.tasksDir, "20260206_first.task.json"));
      await starting(second);
    });
  });

  test("submit on the same media twice gives each task its own default outputs", async () => {
    const media = path.join(root, "talk.wav");
    writeFileSync(media, "");
    const events = new EventWriter(store.workspace.eventsDir);
    // A fake engine registry whose engine accepts every configuration: the engine is not what this test is about.
    const engines = { get: () => ({ check: () => Promise.resolve(), checkMedia: () => Promise.resolve() }) } as unknown as EngineRegistry;
    const one = await submitTask(store, events, engines, { media, refine: true });
    const two = await submitTask(store, events, engines, { media, refine: true });
    assert.notDeepEqual(one.task.output, two.task.output);
    assert.equal(one.task.output?.refined_srt, `workspace/outputs/subtitles/refined/talk.${one.task.task_id}.refined.srt`);
  });
});
