/**
 * The CLI's surface: submit/list/show with --json, --workspace and SOPHIA_WORKSPACE, usage errors
 * and their exit codes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { TaskSchema } from "../../core/app/task/model/schema.js";
import { CLI, SENTENCE, cli, makeWorkspace, readEvents, speech, type TestWorkspace } from "../support/harness.js";
import { mountReadOnly } from "../support/mounts.js";

describe("cli", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;
  let media: string;

  before(() => {
    ws = makeWorkspace();
    media = speech(ws, "interview.wav", SENTENCE);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("submit writes a valid queued task with every field of the spec's schema, and its task.created event", async () => {
    const result = await cli(ws, ["submit", media, "--id", "interview_1", "--run-id", "run_77", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const { file, task } = JSON.parse(result.stdout) as { file: string; task: Record<string, unknown> };
    assert.match(path.basename(file), /^\d{8}T\d{6}Z_interview_1\.task\.json$/);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), task);
    TaskSchema.parse(task);
    for (const field of ["task_id", "run_id", "created_at", "status", "type", "requested_by", "tool", "config_snapshot", "input", "pipeline", "output", "error"]) {
      assert.ok(field in task, `field ${field}`);
    }
    assert.equal(task.status, "queued");
    assert.deepEqual(task.pipeline, ["asr", "refine"]);
    assert.deepEqual(task.input, { media: "workspace/inbox/interview.wav", script: null });
    assert.deepEqual(task.output, { raw_srt: "workspace/outputs/subtitles/raw/interview.interview_1.raw.srt", refined_srt: "workspace/outputs/subtitles/refined/interview.interview_1.refined.srt" });
    const created = readEvents(ws, "interview_1");
    assert.deepEqual(created.map((event) => [event.type, event.run_id, event.payload]), [["task.created", "run_77", { input: "workspace/inbox/interview.wav" }]]);
  });

  test("submit --no-refine makes an asr-only task; a second task with the same id is refused", async () => {
    const result = await cli(ws, ["submit", media, "--no-refine", "--id", "asr_only", "--model", "tiny.en", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const { task } = JSON.parse(result.stdout) as { task: { pipeline: string[]; config_snapshot: unknown } };
    assert.deepEqual(task.pipeline, ["asr"]);
    assert.deepEqual(task.config_snapshot, { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: false } });
    const again = await cli(ws, ["submit", media, "--id", "asr_only"]);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /task id "asr_only" is already used/);
  });

  test("submit of a media file that does not exist fails with exit 2 and writes nothing", async () => {
    const result = await cli(ws, ["submit", path.join(ws.inbox, "missing.wav"), "--id", "never"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /missing\.wav is not a file that exists/);
    const list = await cli(ws, ["list", "--json"]);
    assert.ok(!list.stdout.includes('"never"'));
  });

  test("submit refuses a task whose default output would land in tasks/ through a link, and writes nothing", async () => {
    const subtitles = path.join(ws.dir, "outputs", "subtitles");
    mkdirSync(subtitles, { recursive: true });
    symlinkSync("../../tasks", path.join(subtitles, "raw"));
    try {
      const result = await cli(ws, ["submit", media, "--id", "into_tasks"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^sophia-cli: output\.raw_srt "workspace\/outputs\/subtitles\/raw\/interview\.into_tasks\.raw\.srt" is inside workspace\/tasks\/, which holds task files/);
      assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
      assert.ok(!readdirSync(ws.tasksDir).some((name) => name.includes("into_tasks")), "no task file");
      assert.ok(!readEvents(ws, "into_tasks").length, "no event");
    } finally {
      rmSync(path.join(subtitles, "raw"));
    }
  });

  test("list and show print the stored tasks, as JSON with --json", async () => {
    const list = await cli(ws, ["list", "--status", "queued", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { task: { task_id: string; status: string } }[];
    assert.deepEqual(rows.map((row) => row.task.task_id).sort(), ["asr_only", "interview_1"]);
    const table = await cli(ws, ["list"]);
    assert.match(table.stdout, /interview_1\s+queued/);
    const show = await cli(ws, ["show", "interview_1", "--json"]);
    assert.equal((JSON.parse(show.stdout) as { task: { run_id: string } }).task.run_id, "run_77");
    const unknown = await cli(ws, ["show", "nope", "--json"]);
    assert.equal(unknown.code, 2);
    assert.equal((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code, "task_not_found");
  });

  test("the workspace comes from --workspace, else SOPHIA_WORKSPACE", () => {
    const viaEnv = spawnSync(process.execPath, [CLI, "list", "--json"], { cwd: ws.root, env: { ...process.env, SOPHIA_WORKSPACE: ws.dir }, encoding: "utf8" });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
    assert.equal((JSON.parse(viaEnv.stdout) as unknown[]).length, 2);
  });

  test("a workspace that is a file, or that does not exist, is one clear line and exit 2, not an empty queue", async () => {
    const file = path.join(ws.root, "not_a_folder");
    writeFileSync(file, "");
    for (const [workspace, message] of [
      [file, /^sophia-cli: workspace .*not_a_folder is not a folder: point --workspace at the folder that holds tasks\/\n$/],
      [path.join(ws.root, "typo"), /^sophia-cli: workspace .*typo does not exist: check --workspace/],
    ] as const) {
      for (const args of [["run"], ["list"], ["events"]]) {
        const result = spawnSync(process.execPath, [CLI, "--workspace", workspace, ...args], { cwd: ws.root, encoding: "utf8" });
        assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.equal(result.stderr.trim().split("\n").length, 1, "one line, no stack trace");
      }
    }
    assert.ok(!existsSync(path.join(ws.root, "typo")), "nothing was created for the typo");
  });

  test("--concurrency and --rescan-interval have documented upper bounds", async () => {
    const huge = await cli(ws, ["run", "--concurrency", "99999999999"]);
    assert.equal(huge.code, 2);
    assert.match(huge.stderr, /--concurrency.*must be a whole number from 1 to 32/);
    const rescan = await cli(ws, ["run", "--watch", "--rescan-interval", "99999999999"]);
    assert.equal(rescan.code, 2);
    assert.match(rescan.stderr, /from 1 to 3600/);
  });

  test("a read-only tasks/ makes run exit 5 with one clear line, never 0 having run nothing", async (t) => {
    const queued = await cli(ws, ["submit", media, "--id", "stuck_readonly"]);
    assert.equal(queued.code, 0, queued.stderr);
    const readOnly = mountReadOnly(ws.tasksDir);
    if (!readOnly.ok) return t.skip(readOnly.reason);
    try {
      for (const args of [["run"], ["run", "--task", "stuck_readonly"]]) {
        const result = await cli(ws, [...args, "--no-progress"]);
        assert.equal(result.code, 5, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /^sophia-cli: cannot write in .*tasks: the file system is read-only \(EROFS\)\n$/);
      }
    } finally {
      readOnly.undo();
    }
    assert.equal(JSON.parse((await cli(ws, ["show", "stuck_readonly", "--json"])).stdout).task.status, "queued");
  });

  test("submit with an unwritable events/ leaves no task behind and says so in one line, exit 5", async (t) => {
    const eventsDir = path.join(ws.dir, "events");
    mkdirSync(eventsDir, { recursive: true });
    const readOnly = mountReadOnly(eventsDir);
    if (!readOnly.ok) return t.skip(readOnly.reason);
    try {
      const result = await cli(ws, ["submit", media, "--id", "no_events"]);
      assert.equal(result.code, 5, result.stderr);
      assert.match(result.stderr, /^sophia-cli: cannot append to the event stream .*_events\.jsonl: the file system is read-only \(EROFS\)\n$/);
    } finally {
      readOnly.undo();
    }
    assert.ok(!readdirSync(ws.tasksDir).some((name) => name.includes("no_events")), "no task file");
  });

  test("usage errors exit 2 and say what is wrong", async () => {
    const unknown = await cli(ws, ["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const badConcurrency = await cli(ws, ["run", "--concurrency", "0"]);
    assert.equal(badConcurrency.code, 2);
    assert.match(badConcurrency.stderr, /from 1 to 32/);
    const both = await cli(ws, ["run", "--task", "x", "--watch"]);
    assert.equal(both.code, 2);
  });
});
