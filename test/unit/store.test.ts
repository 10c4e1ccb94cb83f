/**
 * TaskStore and the lifecycle, in-process on temp folders: the transition table, atomic writes that
 * keep unknown fields, claim-lock contention, file naming.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { TRANSITIONS, canTransition, isAnnounced, runOf, type TransitionName } from "../../core/app/task/model/lifecycle.js";
import { TASK_STATUSES, TaskSchema } from "../../core/app/task/model/schema.js";
import { summaryOf } from "../../core/app/task/store/folder_index.js";
import { TASK_FILE_MAX_BYTES, TaskStore, taskFileName, taskIdFromFileName } from "../../core/app/task/store/store.js";
import { FULL_CHECK_MS, isRacy } from "../../core/app/task/store/stamp_cache.js";
import { TASK_CACHE_FILE } from "../../core/app/task/store/summary_file.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { specExampleTask } from "../support/harness.js";
import { taskFolder } from "../support/task_folder.js";

describe("lifecycle table", { timeout: 60_000 }, () => {
  test("allows exactly the spec's edges plus retry, hand-back and recovery", () => {
    const allowed = new Set<string>();
    for (const name of Object.keys(TRANSITIONS) as TransitionName[]) {
      for (const status of TASK_STATUSES) if (canTransition(name, status)) allowed.add(`${status}→${TRANSITIONS[name].to}`);
    }
    assert.deepEqual([...allowed].sort(), [
      "canceled→queued",
      "failed→queued",
      "queued→canceled",
      "queued→running",
      "running→canceled",
      "running→done",
      "running→failed",
      "running→queued",
    ]);
  });

  test("a task is announced once `attempts` is written: by submit from birth, or by the first claim of a file the app wrote", () => {
    assert.equal(isAnnounced({}), false, "a file the desktop app wrote itself");
    assert.equal(isAnnounced({ attempts: 0 }), true, "submitted, or queued again by retry");
    assert.equal(isAnnounced({ attempts: 2 }), true);
  });
});

describe("task store", { timeout: 60_000 }, () => {
  let root: string;
  let store: TaskStore;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-store-"));
    const workspace = new Workspace(path.join(root, "workspace"));
    mkdirSync(workspace.tasksDir, { recursive: true });
    store = new TaskStore(workspace);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("file names are {timestamp}_{task_id}.task.json, and ids with underscores read back whole", () => {
    assert.equal(taskFileName({ created_at: "2026-02-06T10:30:00Z", task_id: "subtitle_pipeline_001" }), "20260206T103000Z_subtitle_pipeline_001.task.json");
    assert.equal(taskIdFromFileName("20260206_subtitle_pipeline_001.task.json"), "subtitle_pipeline_001");
    assert.equal(taskIdFromFileName("20260206T103000Z_a_b.task.json"), "a_b");
  });

  test("a transition rewrites status and keeps every other field, known or not, in order", async () => {
    const created = await store.create(specExampleTask({ app_meta: { big: 12345678901234, nested: [1, { x: null }] } }));
    const canceled = await store.transition(created.file, "cancel");
    const onDisk = JSON.parse(readFileSync(created.file, "utf8")) as Record<string, unknown>;
    assert.equal(onDisk.status, "canceled");
    assert.deepEqual(Object.keys(onDisk), Object.keys(created.raw));
    assert.deepEqual({ ...onDisk, status: "queued" }, created.raw);
    assert.deepEqual(canceled.raw, onDisk);
  });

  test("a refused transition leaves the file byte for byte as it was", async () => {
    const created = await store.create(specExampleTask());
    const before = readFileSync(created.file, "utf8");
    await assert.rejects(store.transition(created.file, "complete"), (error) => isSophiaError(error, "transition_refused") && /cannot complete task subtitle_pipeline_001: it is queued/.test(error.message));
    assert.equal(readFileSync(created.file, "utf8"), before);
  });

  test("concurrent claims of one task: exactly one wins", async () => {
    const created = await store.create(specExampleTask());
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => new TaskStore(store.workspace).transition(created.file, "claim")));
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
    assert.ok(results.every((result) => result.status === "fulfilled" || isSophiaError(result.reason, "transition_refused")));
  });

  test("writes leave no temporary files or locks behind", async () => {
    const created = await store.create(specExampleTask());
    await store.transition(created.file, "claim");
    await store.transition(created.file, "complete");
    assert.deepEqual(taskFolder(store.workspace.tasksDir), [path.basename(created.file)]);
  });

  test("a claim lock left by a process that died is taken over once stale (5 s), not waited on forever", async () => {
    const created = await store.create(specExampleTask());
    const lock = `${created.file}.lock`;
    mkdirSync(lock); // what a runner killed mid-claim leaves behind
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    utimesSync(lock, tenSecondsAgo, tenSecondsAgo);
    const started = Date.now();
    const claimed = await store.transition(created.file, "claim");
    assert.equal(claimed.task.status, "running");
    // Against waiting the lock out, not a speed: a takeover takes milliseconds, 10 s is 10× the 1 s it was once held to.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.ok(!existsSync(lock), "the stale lock is gone");
  });

  test("a claim that waited longer than the stale time for a held lock holds a fresh one: nobody takes it for stale", { timeout: 30_000 }, async () => {
    const created = await store.create(specExampleTask());
    const holder = path.join(`${created.file}.lock`, "0123456789abcdef");
    mkdirSync(holder, { recursive: true });
    const refresh = setInterval(() => utimesSync(holder, new Date(), new Date()), 200); // a live holder, slow
    setTimeout(() => {
      clearInterval(refresh);
      rmSync(`${created.file}.lock`, { recursive: true, force: true });
    }, 6_000);
    let ageOfOurs = Infinity;
    await store.transition(created.file, "cancel", () => {
      const lock = `${created.file}.lock`;
      const [ours] = readdirSync(lock);
      ageOfOurs = Date.now() - statSync(path.join(lock, ours as string)).mtimeMs;
      return {};
    });
    assert.ok(ageOfOurs < 2_000, `the lock taken after a 6 s wait looked ${ageOfOurs} ms old`);
  });

  test("a run lease is exclusive while held and free once released", async () => {
    const created = await store.create(specExampleTask());
    const lease = await store.acquireLease(created.file, () => undefined);
    assert.ok(lease);
    assert.equal(await store.acquireLease(created.file, () => undefined), null);
    assert.equal(await store.leaseHeld(created.file), true);
    await lease.release();
    assert.equal(await store.leaseHeld(created.file), false);
  });

  test("recover removes the fresh lease of a runner whose process is gone, leaves a stale one, and writes nothing when the run changed", async () => {
    const claimed = async (taskId: string) => {
      const created = await store.create(specExampleTask({ task_id: taskId }));
      await store.transition(created.file, "claim", () => ({ attempts: 1 }));
      mkdirSync(`${created.file}.lease`); // what the dead runner left
      return created.file;
    };
    const killed = await claimed("killed");
    const runIn = async (file: string) => runOf((await store.read(file)).task);
    const queued = await store.recover(killed, "recover", "process_gone", await runIn(killed), () => ({ runner: null }));
    assert.equal(queued.task.status, "queued");
    assert.ok(!existsSync(`${killed}.lease`), "a fresh lease would block the next claim for 10 s");

    const silent = await claimed("silent");
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(`${silent}.lease`, longAgo, longAgo);
    assert.equal((await store.recover(silent, "abandon", "lease_stale", await runIn(silent), () => ({ error: null }))).task.status, "failed");
    assert.ok(existsSync(`${silent}.lease`), "a stale lease is left for the next claim to take over");

    const takenOver = await claimed("taken_over");
    const deadRun = await runIn(takenOver);
    await store.transition(takenOver, "hand_back");
    await store.transition(takenOver, "claim"); // another runner claimed it meanwhile
    const before = readFileSync(takenOver, "utf8");
    await assert.rejects(store.recover(takenOver, "recover", "process_gone", deadRun, () => ({})), (error) => isSophiaError(error, "transition_refused") && /changed while being recovered/.test(error.message));
    assert.equal(readFileSync(takenOver, "utf8"), before);
    assert.ok(existsSync(`${takenOver}.lease`), "the lease of a run that is not the dead one's stays");
    const finished = await claimed("finished_meanwhile");
    const finishedRun = await runIn(finished);
    await store.transition(finished, "complete");
    await assert.rejects(store.recover(finished, "recover", "process_gone", finishedRun, () => ({})), (error) => isSophiaError(error, "transition_refused"));
  });

  test("a task file just under 1 MiB, written compactly, stays readable through claim and completion (the runner's writes fit)", { timeout: 60_000 }, async () => {
    const file = path.join(store.workspace.tasksDir, "20260206_near_limit.task.json");
    // Many small numbers: indentation would more than double the file.
    const task = specExampleTask({ task_id: "near_limit", app_state: [] as number[] });
    const room = TASK_FILE_MAX_BYTES - Buffer.byteLength(JSON.stringify(task)) - 64;
    task.app_state = Array.from({ length: Math.floor(room / 2) }, () => 7);
    writeFileSync(file, JSON.stringify(task));
    assert.ok(statSync(file).size <= TASK_FILE_MAX_BYTES && statSync(file).size > TASK_FILE_MAX_BYTES - 1024, "just under the limit");
    const runner = { host: "h", pid: 1, started_at: "2026-02-06T10:31:00.000Z" };
    await store.transition(file, "claim", () => ({ attempts: 1, started_at: runner.started_at, runner, error: null }));
    assert.equal((await store.read(file)).task.status, "running", "readable once claimed");
    await store.transition(file, "fail", () => ({ error: { code: "internal", message: "m".repeat(4096), stack: "s".repeat(16 * 1024), at: runner.started_at, stage: "asr" }, finished_at: runner.started_at, runner: null }));
    const failed = await store.read(file);
    assert.equal(failed.task.status, "failed", "readable once settled, with a failure's longest message and stack");
    assert.deepEqual(failed.raw.app_state, task.app_state, "the app's field is kept as it was");
  });

  test("a task whose own fields are over 1 MiB written compactly is refused, naming the limit", { timeout: 30_000 }, async () => {
    const file = path.join(store.workspace.tasksDir, "20260206_over.task.json");
    writeFileSync(file, JSON.stringify(specExampleTask({ task_id: "over", notes: "x".repeat(TASK_FILE_MAX_BYTES) })));
    await assert.rejects(store.read(file), (error) => isSophiaError(error, "task_invalid") && /20260206_over\.task\.json is 1 MiB written compactly, over the limit of 1 MiB/.test(error.message));
  });

  test("a task being created holds its run lease until it is announced, so no runner starts it before its task.created", { timeout: 30_000 }, async () => {
    let leasedWhileAnnouncing = false;
    const stored = await store.create(specExampleTask({ task_id: "being_announced" }), async (created) => {
      leasedWhileAnnouncing = existsSync(`${created.file}.lease`) && (await store.leaseHeld(created.file));
    });
    assert.ok(leasedWhileAnnouncing);
    assert.ok(!existsSync(`${stored.file}.lease`), "let go once announced");
  });

  test("two files claiming one task id are reported, not guessed between", async () => {
    await store.create(specExampleTask());
    writeFileSync(path.join(store.workspace.tasksDir, "20270101_subtitle_pipeline_001.task.json"), JSON.stringify(specExampleTask()));
    await assert.rejects(store.find("subtitle_pipeline_001"), (error) => isSophiaError(error, "task_conflict"));
  });

  test("a task file over 1 MiB is refused from its size alone, without reading it", async () => {
    const file = path.join(store.workspace.tasksDir, "20260206_huge.task.json");
    writeFileSync(file, "");
    truncateSync(file, 50 * 1024 * 1024);
    await assert.rejects(store.read(file), (error) => isSophiaError(error, "task_invalid") && /20260206_huge\.task\.json is 50 MiB, over the limit of 1 MiB/.test(error.message));
    const [entry] = await store.list();
    assert.ok(entry && !entry.ok && entry.error.code === "task_invalid");
  });

  test("a task file that is a FIFO, a folder or not UTF-8 is invalid at once, never waited on", async () => {
    const fifo = path.join(store.workspace.tasksDir, "20260206_fifo.task.json");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(store.read(fifo), (error) => isSophiaError(error, "task_invalid") && /is a FIFO \(named pipe\), not a regular file/.test(error.message));
    const folder = path.join(store.workspace.tasksDir, "20260206_folder.task.json");
    mkdirSync(folder);
    await assert.rejects(store.read(folder), (error) => isSophiaError(error, "task_invalid") && /is a folder/.test(error.message));
    const latin1 = path.join(store.workspace.tasksDir, "20260206_latin1.task.json");
    writeFileSync(latin1, Buffer.concat([Buffer.from(JSON.stringify(specExampleTask({ task_id: "latin1" })).slice(0, -1)), Buffer.from(', "note": "caf\xe9"}', "latin1")]));
    await assert.rejects(store.read(latin1), (error) => isSophiaError(error, "task_invalid") && /is not UTF-8/.test(error.message));
  });

  test("a file whose name and task_id disagree is invalid", async () => {
    writeFileSync(path.join(store.workspace.tasksDir, "20260206_one.task.json"), JSON.stringify(specExampleTask({ task_id: "two" })));
    await assert.rejects(store.find("one"), (error) => isSophiaError(error, "task_invalid") && /names task "one" but its task_id is "two"/.test(error.message));
  });
});

describe("workspace paths", { timeout: 60_000 }, () => {
  test("relative paths resolve against the folder containing the workspace; outputs must stay inside it", () => {
    const workspace = new Workspace("/srv/data/workspace");
    assert.equal(workspace.resolveInput("workspace/inbox/a.mp3"), "/srv/data/workspace/inbox/a.mp3");
    assert.equal(workspace.resolveOutput("workspace/outputs/a.srt", "output.raw_srt"), "/srv/data/workspace/outputs/a.srt");
    assert.throws(() => workspace.resolveOutput("elsewhere/a.srt", "output.raw_srt"), (error) => isSophiaError(error, "output_outside_workspace"));
    assert.throws(() => workspace.resolveOutput("/tmp/a.srt", "output.raw_srt"), (error) => isSophiaError(error, "output_outside_workspace"));
  });

  test("default outputs carry the task id, so two tasks on one media never share a file", () => {
    const workspace = new Workspace("/srv/data/workspace");
    assert.deepEqual(workspace.defaultOutputs("workspace/inbox/meeting_audio.mp3", "subtitle_pipeline_001"), {
      raw_srt: "workspace/outputs/subtitles/raw/meeting_audio.subtitle_pipeline_001.raw.srt",
      refined_srt: "workspace/outputs/subtitles/refined/meeting_audio.subtitle_pipeline_001.refined.srt",
    });
  });
});

describe("task file cache (store.list)", { timeout: 60_000 }, () => {
  let root: string;
  let workspace: Workspace;
  // A fake clock ahead of the files' ctime, so that the racy rule does not keep them out of the cache.
  let fakeNow: number;
  let store: TaskStore;
  const sameSizeStatus = (file: string, from: string, to: string) => writeFileSync(file, readFileSync(file, "utf8").replace(`"status": "${from}"`, `"status": "${to}"`));
  const statusIn = async (listing: TaskStore) => (await listing.list()).map((entry) => (entry.ok ? entry.stored.task.status : entry.error.code));
  const nextClockTick = () => new Promise((resolve) => setTimeout(resolve, 30));

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-cache-"));
    workspace = new Workspace(path.join(root, "workspace"));
    mkdirSync(workspace.tasksDir, { recursive: true });
    fakeNow = Date.now() + 10_000;
    store = new TaskStore(workspace, { now: () => fakeNow });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("an unchanged file is served from the cache; a same-size change in place is seen", async () => {
    const { file } = await store.create(specExampleTask());
    const first = await store.list();
    const again = await store.list();
    assert.ok(first[0]?.ok && again[0]?.ok && again[0].stored === first[0].stored, "unchanged file read again");
    await nextClockTick(); // ctime must move; the racy rule covers writes within one tick (next test)
    sameSizeStatus(file, "queued", "failed");
    assert.deepEqual(await statusIn(store), ["failed"]);
  });

  test("a file changed within one clock tick of being listed is never cached (racy rule): a same-size write in that tick would keep its stamp", () => {
    const stampedAt = Date.parse("2026-02-06T10:30:00Z");
    const fakeStats = (msBefore: number) => ({ mtimeMs: stampedAt - msBefore, ctimeMs: stampedAt - msBefore });
    assert.equal(isRacy(fakeStats(0), stampedAt), true);
    assert.equal(isRacy(fakeStats(1_000), stampedAt), true, "1 s: one tick of a coarse filesystem clock");
    assert.equal(isRacy(fakeStats(-60_000), stampedAt), true, "from the future (a share with a skewed clock)");
    assert.equal(isRacy(fakeStats(10_000), stampedAt), false);
  });

  test("a replaced file is read again even with the same size and mtime", async () => {
    const { file } = await store.create(specExampleTask());
    assert.deepEqual(await statusIn(store), ["queued"]);
    const { mtime } = statSync(file);
    const replacement = `${file}.new`;
    writeFileSync(replacement, readFileSync(file, "utf8").replace('"status": "queued"', '"status": "failed"'));
    utimesSync(replacement, mtime, mtime);
    renameSync(replacement, file);
    assert.deepEqual(await statusIn(store), ["failed"]);
  });

  test("the claim re-reads under the lock: a status changed by another process since the listing wins", async () => {
    const { file } = await store.create(specExampleTask());
    assert.deepEqual(await statusIn(store), ["queued"]);
    await new TaskStore(workspace).transition(file, "cancel");
    await assert.rejects(store.transition(file, "claim"), (error) => isSophiaError(error, "transition_refused") && /it is canceled/.test(error.message));
    assert.deepEqual(await statusIn(store), ["canceled"]);
  });

  test("a racy file is read on every pass, but the same bytes give the entry parsed from them; other bytes of the same size are parsed", async () => {
    const racy = new TaskStore(workspace); // the real clock: the file was written just now
    const { file } = await racy.create(specExampleTask());
    const [first] = await racy.list();
    const [again] = await racy.list();
    assert.ok(first?.ok && again?.ok && again.stored === first.stored, "the same bytes were parsed and validated again");
    sameSizeStatus(file, "queued", "failed"); // within the same clock tick, most likely: the stamp may not move
    assert.deepEqual(await statusIn(racy), ["failed"]);
  });

  test("a pass over an unchanged folder reuses what it trusted; the store's own write, a file added and a file removed are all seen", async () => {
    const files = [];
    for (const id of ["a", "b", "c"]) files.push((await store.create(specExampleTask({ task_id: id, status: id === "b" ? "failed" : "done", attempts: 1 }))).file);
    const first = await store.list();
    const again = await store.list();
    assert.ok(first.every((entry, i) => entry.ok && again[i]?.ok && again[i].stored === entry.stored), "trusted entries were not reused");
    assert.deepEqual((await store.list({ trust: "done" })).map((entry) => (entry.ok ? entry.stored.task.status : "")), ["done", "failed", "done"]);
    await store.transition(files[1] as string, "retry");
    assert.deepEqual(await statusIn(store), ["done", "queued", "done"]);
    await store.create(specExampleTask({ task_id: "d" }));
    assert.deepEqual(await statusIn(store), ["done", "queued", "done", "queued"]);
    rmSync(files[0] as string);
    assert.deepEqual(await statusIn(store), ["queued", "done", "queued"]);
    assert.deepEqual((await store.list({ trust: "done" })).map((entry) => (entry.ok ? entry.stored.task.task_id : "")), ["b", "c", "d"]);
  });

  test("a finished task is trusted between full checks, and read again once one is due or the watcher names it", async () => {
    const other = new TaskStore(workspace);
    const { file } = await store.create(specExampleTask({ status: "failed", attempts: 1 }));
    assert.deepEqual(await statusIn(store), ["failed"]);
    await other.transition(file, "retry");
    fakeNow += 1_000;
    assert.deepEqual(await statusIn(store), ["failed"], "a finished task is not stamped on every pass");
    fakeNow += FULL_CHECK_MS;
    assert.deepEqual(await statusIn(store), ["queued"]);
    await other.transition(file, "cancel");
    assert.deepEqual(await statusIn(store), ["canceled"], "a queued task is stamped on every pass");
    await other.transition(file, "retry");
    assert.deepEqual(await statusIn(store), ["canceled"]);
    store.forget(file);
    assert.deepEqual(await statusIn(store), ["queued"]);
  });
});

describe("task cache file (tasks/.sophia-task-cache.json)", { timeout: 60_000 }, () => {
  let root: string;
  let workspace: Workspace;
  let fakeNow: number;
  const cacheFile = () => path.join(workspace.tasksDir, TASK_CACHE_FILE);
  // A fake clock ahead of the files' ctime, as above, so that finished tasks are cached and saved.
  const coldStore = () => new TaskStore(workspace, { now: () => fakeNow });
  const rows = async (store: TaskStore) => (await store.list()).map((entry) => (entry.ok ? `${entry.stored.task.task_id} ${entry.stored.task.status} ${String(entry.stored.raw.tool)}` : entry.error.code));
  const put = (taskId: string, fields: Record<string, unknown>) => {
    const file = path.join(workspace.tasksDir, `20260206_${taskId}.task.json`);
    writeFileSync(file, `${JSON.stringify(specExampleTask({ task_id: taskId, attempts: 1, ...fields }), null, 2)}\n`);
    return file;
  };
  /** The cache file's header and entries: [name, stamp, summary, task] (the task's JSON parsed). */
  type SavedLine = [string, string, string[], Record<string, unknown>];
  const saved = () => {
    const [header, ...lines] = readFileSync(cacheFile(), "utf8").trimEnd().split("\n");
    const entries = lines.map((line): SavedLine => {
      const [name, stamp, summary, json] = line.split("\t") as [string, string, string, string];
      return [name, stamp, JSON.parse(summary) as string[], JSON.parse(json) as Record<string, unknown>];
    });
    return { ...(JSON.parse(header as string) as { format: string; version: number }), entries };
  };
  const writeSaved = (entries: SavedLine[]) =>
    writeFileSync(cacheFile(), `${JSON.stringify({ format: "sophia.task-cache", version: 3 })}\n${entries.map(([name, stamp, summary, raw]) => `${name}\t${stamp}\t${JSON.stringify(summary)}\t${JSON.stringify(raw)}`).join("\n")}\n`);

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-cache-file-"));
    workspace = new Workspace(path.join(root, "workspace"));
    mkdirSync(workspace.tasksDir, { recursive: true });
    fakeNow = Date.now() + 10_000;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("a store made with taskCache false (bench:queue's side without the cache) keeps no cache file", async () => {
    put("kept", { status: "done" });
    const uncached = new TaskStore(workspace, { now: () => fakeNow, taskCache: false });
    assert.deepEqual(await rows(uncached), ["kept done sophia-desktop-v0.1.4"]);
    assert.equal(existsSync(cacheFile()), false, "nothing saved");
    await rows(coldStore());
    assert.equal(existsSync(cacheFile()), true, "a store with the cache saves it");
  });

  test("a cold store takes unchanged finished tasks from the cache file, and reads a file edited by hand since", async () => {
    put("kept", { status: "done" });
    const edited = put("edited", { status: "failed" });
    put("waiting", { status: "queued" });
    assert.deepEqual(await rows(coldStore()), ["edited failed sophia-desktop-v0.1.4", "kept done sophia-desktop-v0.1.4", "waiting queued sophia-desktop-v0.1.4"]);
    assert.deepEqual(saved().entries.map(([name]) => name), ["20260206_edited.task.json", "20260206_kept.task.json"], "finished tasks only");
    // Proof that the entry is used without reading the file: the cache file says otherwise, under the file's stamp.
    const forged = saved();
    for (const entry of forged.entries) entry[3].tool = "from the cache file";
    writeSaved(forged.entries);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the edit's ctime must move past the saved stamp
    writeFileSync(edited, readFileSync(edited, "utf8").replace('"tool": "sophia-desktop-v0.1.4"', '"tool": "hand-edited-app-v9"'));
    assert.deepEqual(await rows(coldStore()), ["edited failed hand-edited-app-v9", "kept done from the cache file", "waiting queued sophia-desktop-v0.1.4"]);
  });

  test("a cold list parses only each task's summary; its JSON is parsed when the task is asked for, and a damaged one is read from the task file", { timeout: 30_000 }, async () => {
    put("kept", { status: "done" });
    await coldStore().list();
    const [name, stamp, summary] = saved().entries[0] as SavedLine;
    writeFileSync(cacheFile(), `${JSON.stringify({ format: "sophia.task-cache", version: 3 })}\n${name}\t${stamp}\t${JSON.stringify(summary)}\t{"half a task\n`);
    const [entry] = await coldStore().list();
    assert.ok(entry?.ok);
    assert.deepEqual(summaryOf(entry.stored), { id: "kept", status: "done", created_at: "2026-02-06T10:30:00Z", media: "workspace/inbox/meeting_audio.mp3" });
    assert.equal(entry.stored.task.status, "done", "the damaged entry stops nothing: the task comes from its file");
    assert.equal(entry.stored.raw.tool, "sophia-desktop-v0.1.4");
  });

  test("a forged summary (a status its task's JSON does not have) is not shown: the task is read from its file", { timeout: 30_000 }, async () => {
    put("kept", { status: "done" });
    await coldStore().list();
    const [name, stamp, summary, raw] = saved().entries[0] as SavedLine;
    writeSaved([[name, stamp, [summary[0] as string, "canceled", ...summary.slice(2)], raw]]);
    const store = coldStore();
    const [entry] = await store.list();
    assert.ok(entry?.ok);
    assert.equal(summaryOf(entry.stored).status, "done");
    assert.equal(entry.stored.task.status, "done");
  });

  test("tasks taken from the cache file are written back as they were when it is saved again", async () => {
    put("kept", { status: "done" });
    await coldStore().list();
    const forged = saved();
    for (const entry of forged.entries) entry[3].tool = "from the cache file";
    writeSaved(forged.entries);
    const store = coldStore();
    await store.list();
    put("later", { status: "failed" });
    assert.deepEqual(await rows(store), ["kept done from the cache file", "later failed sophia-desktop-v0.1.4"]);
    assert.deepEqual(saved().entries.map(([entryName, , , raw]) => `${entryName} ${String(raw.tool)}`), ["20260206_kept.task.json from the cache file", "20260206_later.task.json sophia-desktop-v0.1.4"]);
  });

  for (const [what, content] of [
    ["not JSON", "{ half a cache"],
    ["another version", `${JSON.stringify({ format: "sophia.task-cache", version: 99 })}\n`],
    ["lines of the wrong shape", `${JSON.stringify({ format: "sophia.task-cache", version: 3 })}\n20260206_kept.task.json\t5\n\t\t\t\nx\ty\t{"a":1}\t{}\n`],
    ["of version 1 (one JSON document)", JSON.stringify({ format: "sophia.task-cache", version: 1, entries: [["20260206_kept.task.json", "1:2:3:4:5", specExampleTask({ task_id: "kept", status: "done", tool: "from the cache file" })]] })],
  ] as const) {
    test(`a cache file that is ${what} is ignored and written again from the task files`, async () => {
      put("kept", { status: "done" });
      writeFileSync(cacheFile(), content);
      assert.deepEqual(await rows(coldStore()), ["kept done sophia-desktop-v0.1.4"]);
      const rewritten = saved();
      assert.equal(rewritten.format, "sophia.task-cache");
      assert.deepEqual(rewritten.entries.map(([name, , , raw]) => [name, raw.status]), [["20260206_kept.task.json", "done"]]);
    });
  }

  test("an entry the file's name does not match, or of a task not finished, is not used", async () => {
    const file = put("kept", { status: "done" });
    await coldStore().list();
    const [name, stamp, summary, raw] = saved().entries[0] as SavedLine;
    writeSaved([[name, stamp, ["other", ...summary.slice(1)], { ...raw, task_id: "other", tool: "forged" }]]);
    assert.deepEqual(await rows(coldStore()), ["kept done sophia-desktop-v0.1.4"]);
    writeSaved([[name, stamp, [summary[0] as string, "queued", ...summary.slice(2)], { ...raw, status: "queued", tool: "forged" }]]);
    assert.deepEqual(await rows(coldStore()), ["kept done sophia-desktop-v0.1.4"]);
    assert.ok(existsSync(file));
  });

  test("the schema's output is its input, so a cached task's JSON is its validated view too", () => {
    for (const raw of [
      specExampleTask(),
      specExampleTask({ status: "failed", attempts: 2, error: { code: "x", message: "m", stage: null, stack: "s", at: "2026-02-06T10:30:00Z" }, app_field: { nested: [1, { a: null }] } }),
      specExampleTask({ status: "done", output: { formats: ["srt", "vtt"], ass: { karaoke: true }, overwrite: false }, runner: null, started_at: null, finished_at: "2026-02-06T10:31:00Z" }),
    ]) {
      assert.deepEqual(TaskSchema.parse(raw), raw);
    }
  });

  test("a workspace where the cache file cannot be written still lists", async () => {
    put("kept", { status: "done" });
    mkdirSync(cacheFile()); // a folder in its place: every write fails
    assert.deepEqual(await rows(coldStore()), ["kept done sophia-desktop-v0.1.4"]);
  });
});
