/**
 * Writes that cannot be redirected (issue 17 items 1–5), in-process on real task files: a link or a
 * swapped folder met at write time, an output naming another task's input, a task cache that is a
 * link, a scratch folder that is a link, and two submits of one task id at once.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { writeFileAtomically } from "../../core/app/atomic_write.js";
import { isSophiaError } from "../../core/app/errors.js";
import type { Stage, StageContext, StageResult } from "../../core/app/stages/stage.js";
import { writeTranscript } from "../../core/app/stages/transcript_handoff.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import type { Task } from "../../core/app/task/model/schema.js";
import { summaryOf } from "../../core/app/task/store/folder_index.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { TASK_CACHE_FILE } from "../../core/app/task/store/summary_file.js";
import { resolveTaskPaths } from "../../core/app/task/model/task_paths.js";
import { PROJECT, specExampleTask } from "../support/harness.js";
import { FakeStage, fakeWorkspace, queueTask, taskOnDisk, type FakeWorkspace } from "../support/fake_pipeline.js";

describe("writes that cannot be redirected", { timeout: 60_000 }, () => {
  let fx: FakeWorkspace;
  beforeEach(() => (fx = fakeWorkspace()));
  afterEach(() => fx.dispose());
  const outside = () => {
    const file = path.join(fx.root, "outside.txt");
    writeFileSync(file, "a file of the user's, outside the workspace\n");
    return file;
  };

  test("a link placed at an output after preflight is refused at write time, and what it points to is untouched", async () => {
    const target = outside();
    const file = queueTask(fx.workspace, "linked");
    const paths = resolveTaskPaths(taskOnDisk(file) as Task, fx.workspace);
    mkdirSync(path.dirname(paths.rawSrt), { recursive: true });
    symlinkSync(target, paths.rawSrt);
    await assert.rejects(writeFileAtomically(paths.rawSrt, "1\n00:00:00,000 --> 00:00:01,000\nHello\n", { check: paths.assertWritable }), (error) => isSophiaError(error, "output_reserved") && /is a symbolic link/.test(error.message));
    assert.equal(readFileSync(target, "utf8"), "a file of the user's, outside the workspace\n");
    assert.deepEqual(readdirSync(path.dirname(paths.rawSrt)), [path.basename(paths.rawSrt)], "no temporary file left");
  });

  test("an output folder swapped for a link to events/ after preflight is refused at write time: the day's event log is not replaced", async () => {
    const file = queueTask(fx.workspace, "swapped", { output: { raw_srt: "workspace/outputs/subtitles/2026-02-06_events.jsonl" } });
    const paths = resolveTaskPaths(taskOnDisk(file) as Task, fx.workspace);
    mkdirSync(fx.workspace.eventsDir, { recursive: true });
    const log = path.join(fx.workspace.eventsDir, "2026-02-06_events.jsonl");
    writeFileSync(log, '{"an":"event"}\n');
    mkdirSync(fx.workspace.outputsDir, { recursive: true });
    symlinkSync(fx.workspace.eventsDir, path.join(fx.workspace.outputsDir, "subtitles"));
    await assert.rejects(writeFileAtomically(paths.rawSrt, "subtitles\n", { check: paths.assertWritable }), (error) => isSophiaError(error, "output_reserved") && /event stream/.test(error.message));
    assert.equal(readFileSync(log, "utf8"), '{"an":"event"}\n');
    assert.deepEqual(readdirSync(fx.workspace.eventsDir), ["2026-02-06_events.jsonl"]);
  });

  test("an output that names the media of a queued task fails its task before any stage runs, even with overwrite", async () => {
    const media = path.join(fx.workspace.dir, "inbox", "talk.wav");
    writeFileSync(media, "the talk's audio");
    queueTask(fx.workspace, "talk", { input: { media: "workspace/inbox/talk.wav", script: null } }, "20260205");
    for (const overwrite of [false, true]) {
      const id = `clobbering_${overwrite}`;
      const file = queueTask(fx.workspace, id, { output: { raw_srt: "workspace/inbox/talk.wav", overwrite } });
      const stage = new FakeStage("asr", { finishAtOnce: true });
      const store = new TaskStore(fx.workspace);
      const outcome = await new TaskRunner({ store, events: fx.events, stages: [stage], keepTmp: false }).run(await store.read(file));
      assert.equal(outcome.kind, "failed", id);
      assert.ok(outcome.kind === "failed" && outcome.error.code === "output_clobbers_input" && /is the input.media of task talk \(queued\)/.test(outcome.error.message), JSON.stringify(outcome));
      assert.equal(stage.runs.length, 0);
    }
    assert.equal(readFileSync(media, "utf8"), "the talk's audio");
  });

  test("a script of a queued task is an input too", async () => {
    writeFileSync(path.join(fx.workspace.dir, "inbox", "talk.txt"), "the words");
    queueTask(fx.workspace, "scripted", { input: { media: "workspace/inbox/media.wav", script: "workspace/inbox/talk.txt" } }, "20260205");
    const file = queueTask(fx.workspace, "over_script", { output: { raw_srt: "workspace/inbox/talk.txt" } });
    const store = new TaskStore(fx.workspace);
    const outcome = await new TaskRunner({ store, events: fx.events, stages: [new FakeStage("asr", { finishAtOnce: true })], keepTmp: false }).run(await store.read(file));
    assert.ok(outcome.kind === "failed" && outcome.error.code === "output_clobbers_input" && /input.script of task scripted/.test(outcome.error.message), JSON.stringify(outcome));
    assert.equal(readFileSync(path.join(fx.workspace.dir, "inbox", "talk.txt"), "utf8"), "the words");
  });

  test("a task cache that is a link is neither written through nor read", async () => {
    const file = queueTask(fx.workspace, "finished", { status: "done" });
    // A clock ahead of the file's ctime, so that the finished task is cached and saved (task_file_cache.ts).
    const later = () => Date.now() + 10_000;
    const cache = path.join(fx.workspace.tasksDir, TASK_CACHE_FILE);
    await new TaskStore(fx.workspace, { now: later }).list(); // writes the cache file
    // The same cache, forged to say `canceled` for the task whose file says `done`, put behind a link.
    const forged = path.join(fx.root, "forged-cache");
    writeFileSync(forged, readFileSync(cache, "utf8").replaceAll('"done"', '"canceled"'));
    const forgedText = readFileSync(forged, "utf8");
    rmSync(cache);
    symlinkSync(forged, cache);

    const listed = await new TaskStore(fx.workspace, { now: later }).list();
    assert.equal(listed[0]?.ok && summaryOf(listed[0].stored).status, "done", "the cache behind the link was not read");
    assert.equal(readFileSync(forged, "utf8"), forgedText, "nor written through");
    assert.equal(taskOnDisk(file).status, "done");
  });

  test("the raw SRT a queued refine-only task reads is an input too", async () => {
    const raw = path.join(fx.workspace.outputsDir, "talk.raw.srt");
    mkdirSync(fx.workspace.outputsDir, { recursive: true });
    writeFileSync(raw, "1\n00:00:00,000 --> 00:00:01,000\nHello\n");
    queueTask(fx.workspace, "refining", { pipeline: ["refine"], output: { raw_srt: "workspace/outputs/talk.raw.srt", refined_srt: "workspace/outputs/talk.refined.srt" } }, "20260205");
    const file = queueTask(fx.workspace, "over_raw", { output: { raw_srt: "workspace/outputs/talk.raw.srt" } });
    const store = new TaskStore(fx.workspace);
    const outcome = await new TaskRunner({ store, events: fx.events, stages: [new FakeStage("asr", { finishAtOnce: true })], keepTmp: false }).run(await store.read(file));
    assert.ok(outcome.kind === "failed" && outcome.error.code === "output_clobbers_input" && /output.raw_srt of task refining \(queued\)/.test(outcome.error.message), JSON.stringify(outcome));
    assert.equal(readFileSync(raw, "utf8"), "1\n00:00:00,000 --> 00:00:01,000\nHello\n");
  });

  test("a scratch folder that is a link fails the task; the transcript is not written through it", async () => {
    const elsewhere = path.join(fx.root, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, "transcript.json"), "the user's file");
    mkdirSync(path.join(fx.workspace.outputsDir, "_tmp"), { recursive: true });
    symlinkSync(elsewhere, fx.workspace.tmpDir("scratch"));
    const file = queueTask(fx.workspace, "scratch");
    const stage: Stage = {
      name: "asr",
      outputs: (paths) => [paths.raw],
      preflight: async () => undefined,
      async run({ paths }: StageContext): Promise<StageResult> {
        await writeTranscript(paths.tmpDir, { segments: [] } as never);
        return { artifacts: [], summary: {} };
      },
    };
    const store = new TaskStore(fx.workspace);
    const outcome = await new TaskRunner({ store, events: fx.events, stages: [stage], keepTmp: false }).run(await store.read(file));
    assert.ok(outcome.kind === "failed" && outcome.error.code === "output_reserved" && /_tmp\/scratch is a symbolic link/.test(outcome.error.message), JSON.stringify(outcome));
    assert.equal(readFileSync(path.join(elsewhere, "transcript.json"), "utf8"), "the user's file");
  });

  test("two creates of one task id at once, in one process: one task file, the other refused", async () => {
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => new TaskStore(fx.workspace).create(specExampleTask({ task_id: "same", run_id: `run_${i}` }))));
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 1, JSON.stringify(results.map((result) => result.status)));
    assert.ok(results.every((result) => result.status === "fulfilled" || isSophiaError(result.reason, "task_conflict")));
    assert.equal(readdirSync(fx.workspace.tasksDir).filter((name) => name.endsWith(".task.json")).length, 1);
  });

  test("creates of one task id at once, in four processes, five times over: one task file each time, the others refused", { timeout: 60_000 }, async () => {
    const ROUNDS = 5;
    const startAt = Date.now() + 4_000;
    // Each process warms up (modules loaded, one task created), then all create one id at the same
    // instant, round after round: without a lock on the id, two of them both find it free.
    const script = `import { TaskStore } from "./core/app/task/store/store.ts"; import { Workspace } from "./core/app/task/model/workspace.ts"; import { specExampleTask } from "./test/support/harness.ts";
      const store = new TaskStore(new Workspace(process.argv[1]));
      await store.create(specExampleTask({ task_id: "warm_" + process.pid }));
      const codes = [];
      for (let round = 0; round < ${ROUNDS}; round++) {
        while (Date.now() < ${startAt} + round * 300) {}
        try { await store.create(specExampleTask({ task_id: "same_" + round, run_id: "run_" + process.pid })); codes.push("created"); } catch (e) { codes.push(e.code); }
      }
      console.log(JSON.stringify(codes));`;
    const perProcess = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<string[]>((resolve) => {
            const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, fx.workspace.dir], { cwd: PROJECT, stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
            child.on("exit", () => resolve(JSON.parse(out.trim() || "[]") as string[]));
          }),
      ),
    );
    for (let round = 0; round < ROUNDS; round++) {
      const codes = perProcess.map((codesOf) => codesOf[round]).sort();
      assert.deepEqual(codes, ["created", "task_conflict", "task_conflict", "task_conflict"], `round ${round}`);
      assert.equal(readdirSync(fx.workspace.tasksDir).filter((name) => name.endsWith(`_same_${round}.task.json`)).length, 1);
    }
    assert.deepEqual(readdirSync(fx.workspace.tasksDir).filter((name) => name.includes(".sophia-id-")), [], "no id lock left");
  });
});
