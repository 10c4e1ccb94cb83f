/**
 * The subtitler's path (issue 19): `transcribe` in one command, with the output rules still applied
 * outside the workspace; submit's subtitle settings (formats, rules, language names, a model's
 * near name, media without audio); and the commands that end when their task does (`wait`,
 * `events --follow --task`), `show` for jq and `list` in creation order.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { SUBTITLE_FORMATS } from "../../core/app/subtitles/format_names.js";
import type { Task } from "../../core/app/task/model/schema.js";
import { CORPUS } from "../support/corpus.js";
import { CLI, PROJECT, cli, collect, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, srtText, startCli, wer, SENTENCE, type TestWorkspace } from "../support/harness.js";

/** About 7 s of a LibriVox reading (Sense and Sensibility): tiny.en hears it with a WER of about 0.1. */
const READING = "librivox_sense_sensibility_0870";

describe("transcribe and the commands around a task", { timeout: 600_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("transcribe writes the subtitles where -o says, outside the workspace, prints them, and the task is in the workspace like any other", { timeout: 300_000 }, async () => {
    const subs = path.join(ws.root, "elsewhere", "subs");
    const media = path.join(ws.root, "elsewhere", `${READING}.wav`);
    mkdirSync(path.dirname(media), { recursive: true });
    copyFileSync(path.join(CORPUS, `${READING}.wav`), media);
    const run = await cli(ws, ["transcribe", media, "-o", subs, "-f", "srt,vtt", "--language", "English", "--max-line-width", "32", "--max-line-count", "1"]);
    assert.equal(run.code, 0, run.stderr);
    const srt = path.join(subs, `${READING}.srt`);
    const vtt = path.join(subs, `${READING}.vtt`);
    assert.deepEqual(run.stdout.trim().split("\n"), [srt, vtt]);
    assert.match(run.stderr, /asr started[\s\S]*refine done/);
    const text = readFileSync(srt, "utf8");
    assert.ok(wer(readFileSync(path.join(CORPUS, `${READING}.txt`), "utf8"), srtText(text)) <= 0.3, text);
    assert.ok(readFileSync(vtt, "utf8").startsWith("WEBVTT"));
    const cueLines = text.trim().split("\n\n").map((cue) => cue.split("\n").slice(2));
    assert.ok(cueLines.every((lines) => lines.length === 1 && (lines[0] as string).length <= 32), text);

    const listed = JSON.parse((await cli(ws, ["list", "--json"])).stdout) as { task: Task }[];
    const task = listed.map((row) => row.task).find((one) => one.input.media.endsWith(`${READING}.wav`));
    assert.equal(task?.status, "done");
    assert.equal(task?.output?.outside_workspace, true);
    assert.equal(task?.config_snapshot.engine.language, "en");
    assert.deepEqual(task?.config_snapshot.refine, { max_chars_per_line: 32, max_lines: 1, enabled: true });
    const types = readEvents(ws, task?.task_id).map((event) => event.type);
    assert.deepEqual([types[0], types.at(-1)], ["task.created", "task.completed"]);
  });

  test("transcribe outside the workspace still refuses the workspace's own folders and the input, before any task", { timeout: 120_000 }, async () => {
    const media = speech(ws, "rules.wav", SENTENCE);
    const intoTasks = await cli(ws, ["transcribe", media, "-o", ws.tasksDir, "--model", "tiny.en"]);
    assert.equal(intoTasks.code, 2, intoTasks.stderr);
    assert.match(intoTasks.stderr, /inside workspace\/tasks\/, which holds task files/);
    // A recording named clip.srt: its subtitles would be clip.srt, the input itself.
    const clip = path.join(ws.inbox, "clip.srt");
    copyFileSync(media, clip);
    const overInput = await cli(ws, ["transcribe", clip, "-o", ws.inbox, "--model", "tiny.en"]);
    assert.equal(overInput.code, 2, overInput.stderr);
    assert.match(overInput.stderr, /inputs are never overwritten/);
    assert.ok(!readEvents(ws).some((event) => event.type === "task.created" && /^(rules|clip)_/.test(event.task_id)));
  });

  test("submit: --format all, the rule options into config_snapshot.refine, a language by name", { timeout: 120_000 }, async () => {
    const media = speech(ws, "settings.wav", SENTENCE);
    const submitted = await cli(ws, ["submit", media, "--format", "all", "--max-line-width", "37", "--max-line-count", "1", "--max-cps", "15", "--language", "german", "--json"]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const task = (JSON.parse(submitted.stdout) as { task: Task }).task;
    assert.deepEqual(task.output?.formats, [...SUBTITLE_FORMATS]);
    assert.deepEqual(task.config_snapshot.refine, { max_chars_per_line: 37, max_lines: 1, max_cps: 15, enabled: true });
    assert.equal(task.config_snapshot.engine.language, "de");
    const tooMany = await cli(ws, ["submit", media, "--max-line-count", "5"]);
    assert.equal(tooMany.code, 2);
    assert.match(tooMany.stderr, /max_lines/);
  });

  test("submit: an unknown language is one short line, --model tiny suggests tiny.en, and a text file is refused for its missing audio", { timeout: 120_000 }, async () => {
    const media = speech(ws, "refused.wav", SENTENCE);
    const klingon = await cli(ws, ["submit", media, "--language", "Klingon"]);
    assert.equal(klingon.code, 2);
    assert.equal(klingon.stderr.trim().split("\n").length, 1);
    assert.match(klingon.stderr, /"Klingon" is not a language Whisper knows/);
    assert.ok(klingon.stderr.length < 300, klingon.stderr);
    const tiny = await cli(ws, ["submit", media, "--model", "tiny"]);
    assert.equal(tiny.code, 2);
    assert.match(tiny.stderr, /did you mean "tiny\.en"/);
    const notes = path.join(ws.inbox, "notes.txt");
    writeFileSync(notes, "These are my notes, not a recording.\n");
    const text = await cli(ws, ["submit", notes, "--model", "tiny.en", "--id", "notes_task"]);
    assert.equal(text.code, 2, text.stderr);
    assert.match(text.stderr, /notes\.txt cannot be transcribed: it is not a media file/);
    assert.ok(!existsSync(path.join(ws.tasksDir, "notes_task.task.json")) && !readEvents(ws, "notes_task").length);
  });

  test("wait and events --follow --task end when the task ends, wait with its outcome", { timeout: 120_000 }, async () => {
    const media = speech(ws, "waited.wav", SENTENCE);
    assert.equal((await cli(ws, ["submit", media, "--model", "tiny.en", "--id", "waited"])).code, 0);
    const waiting = collect(startCli(ws, ["wait", "waited"]));
    const following = collect(startCli(ws, ["events", "--follow", "--task", "waited"]));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await cli(ws, ["cancel", "waited"])).code, 0);
    const [waited, followed] = await Promise.all([waiting, following]);
    assert.equal(waited.code, 3, waited.stderr);
    assert.equal(waited.stdout.trim(), "waited canceled");
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout.trim().split("\n").at(-1) as string, /task\.canceled/);
    // A task that has ended: both return at once.
    assert.equal((await cli(ws, ["wait", "waited"], {}, 20_000)).code, 3);
    assert.equal((await cli(ws, ["events", "--follow", "--task", "waited"], {}, 20_000)).code, 0);
  });

  test("events --follow piped into head -1 ends when head leaves, though nothing more is written", { timeout: 120_000 }, () => {
    dropTask(ws, specExampleTask({ task_id: "quiet_one" }));
    assert.equal(spawnSync(process.execPath, [CLI, "--workspace", ws.dir, "cancel", "quiet_one"]).status, 0); // an event to read
    // The workspace has events (the ones before) and nothing writes more: only noticing head's exit ends the follower.
    const piped = spawnSync("bash", ["-c", `set -o pipefail; timeout 60 "${process.execPath}" "${CLI}" --workspace "${ws.dir}" events --follow | head -1`], { encoding: "utf8", env: { ...process.env, HF_HUB_OFFLINE: "1" } });
    assert.equal(piped.status, 0, `exit ${piped.status} (124: still following when timeout stopped it)\n${piped.stderr}`);
    assert.equal(piped.stdout.trim().split("\n").length, 1);
  });

  test("remove and clean delete finished tasks' files with a task.removed event, their outputs only with --outputs; a queued task is refused", { timeout: 180_000 }, async () => {
    speech(ws, "removed.wav", SENTENCE);
    writeFileSync(path.join(ws.inbox, "removed.raw.srt"), "1\n00:00:00,500 --> 00:00:02,500\nThank you for coming today.\n\n2\n00:00:02,600 --> 00:00:05,000\nWe will start with a short review.\n");
    const refineOnly = (taskId: string) =>
      specExampleTask({
        task_id: taskId,
        pipeline: ["refine"],
        config_snapshot: { engine: { type: "faster_whisper" } },
        input: { media: "workspace/inbox/removed.wav", script: null },
        output: { raw_srt: "workspace/inbox/removed.raw.srt", refined_srt: `workspace/outputs/${taskId}.refined.srt` },
      });
    for (const id of ["gone", "gone_too"]) {
      dropTask(ws, refineOnly(id));
      assert.equal((await cli(ws, ["run", "--task", id])).code, 0);
    }
    dropTask(ws, refineOnly("still_queued"));
    const refused = await cli(ws, ["remove", "still_queued"]);
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /is queued: only a done, failed or canceled task can be removed/);

    const removed = await cli(ws, ["remove", "gone"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.throws(() => readTask(ws, "gone"));
    assert.ok(existsSync(path.join(ws.dir, "outputs", "gone.refined.srt")), "outputs stay unless asked");
    const event = readEvents(ws, "gone").at(-1);
    assert.equal(event?.type, "task.removed");
    assert.deepEqual(event?.payload, { previous_status: "done", file: "workspace/tasks/20260206_gone.task.json", outputs_removed: [] });

    const cleaned = JSON.parse((await cli(ws, ["clean", "--status", "done", "--outputs", "--json"])).stdout) as { task_id: string; outputs_removed: string[] }[];
    assert.deepEqual(cleaned.find((row) => row.task_id === "gone_too")?.outputs_removed, ["workspace/outputs/gone_too.refined.srt"]);
    assert.ok(!existsSync(path.join(ws.dir, "outputs", "gone_too.refined.srt")));
    assert.equal(readTask(ws, "still_queued").status, "queued");
  });

  test("status shows an idle run --watch runner, and no longer once it has stopped", { timeout: 120_000 }, async () => {
    const idle = makeWorkspace();
    try {
      const watcher = startCli(idle, ["run", "--watch", "--no-progress"]);
      const finished = collect(watcher, 60_000);
      const runnersOf = async () => (JSON.parse((await cli(idle, ["status", "--json"])).stdout) as { runners: { pid: number; tasks: string[] }[] }).runners;
      for (let tries = 0; !(await runnersOf()).some((runner) => runner.pid === watcher.pid); tries++) {
        assert.ok(tries < 60, "the watching runner never showed in status");
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.deepEqual((await runnersOf()).find((runner) => runner.pid === watcher.pid)?.tasks, []);
      assert.match((await cli(idle, ["status"])).stdout, new RegExp(`pid ${watcher.pid} watching, idle`));
      watcher.kill("SIGINT");
      assert.equal((await finished).code, 0);
      assert.deepEqual(await runnersOf(), []);
    } finally {
      rmSync(idle.root, { recursive: true, force: true });
    }
  });

  test("show prints the task file's JSON alone (for jq), --json wraps it with its file", { timeout: 60_000 }, async () => {
    dropTask(ws, specExampleTask({ task_id: "shown" }));
    const plain = await cli(ws, ["show", "shown"]);
    assert.equal((JSON.parse(plain.stdout) as { task_id: string }).task_id, "shown");
    const wrapped = JSON.parse((await cli(ws, ["show", "shown", "--json"])).stdout) as { file: string; task: { task_id: string } };
    assert.equal(wrapped.task.task_id, "shown");
    assert.equal(wrapped.file, path.join(ws.tasksDir, "20260206_shown.task.json"));
  });

  test("check without --language says, on stderr and in its summary, that English limits were assumed", { timeout: 60_000 }, async () => {
    const spanish = path.join(PROJECT, "test", "fixtures", "refine", "reading_es.raw.srt");
    const plain = await cli(ws, ["check", spanish]);
    assert.match(plain.stderr, /no --language given: checked against the English limits \(42 characters a line, 20 a second\)/);
    assert.match(plain.stdout.trim().split("\n").at(-1) as string, /\[English, assumed: no --language given: 42 characters a line, 20 a second\]$/);
    const report = JSON.parse((await cli(ws, ["check", spanish, "--json"])).stdout) as { rules: { language_from: string } };
    assert.equal(report.rules.language_from, "assumed");
    const given = await cli(ws, ["check", spanish, "--language", "es"]);
    assert.equal(given.stderr, "");
    assert.match(given.stdout, /\[es: 42 characters a line, 17 a second\]/);
  });

  test("list orders tasks by creation time to the millisecond, not by id within a second", { timeout: 60_000 }, async () => {
    const order = [
      ["within_c", "2030-01-01T00:00:00.100Z"],
      ["within_a", "2030-01-01T00:00:00.200Z"],
      ["within_b", "2030-01-01T00:00:00.300Z"],
    ];
    for (const [id, at] of order) dropTask(ws, specExampleTask({ task_id: id, created_at: at }), "20300101T000000Z");
    const listed = (JSON.parse((await cli(ws, ["list", "--json"])).stdout) as { task?: { task_id: string } }[]).map((row) => row.task?.task_id);
    assert.deepEqual(listed.filter((id) => id?.startsWith("within_")), ["within_c", "within_a", "within_b"]);
    assert.equal(readTask(ws, "within_a").created_at, "2030-01-01T00:00:00.200Z");
  });
});
