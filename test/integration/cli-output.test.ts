/**
 * A CLI that reads well: what a first-time user sees from list, events, status, run and typos.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI, LONG_TEXT, SENTENCE, cli, collect, makeWorkspace, readEvents, speech, startCli, type TestWorkspace } from "../support/harness.js";

/** Polls an async probe (each probe runs the CLI) until it returns something; the deadline only guards against a hang. */
async function until<T>(probe: () => Promise<T | null>, deadlineMs = 120_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== null) return found;
    await sleep(200);
  }
  throw new Error(`nothing found within ${deadlineMs} ms`);
}

describe("cli output", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("list says so when there are no tasks, and has a header when there are", async () => {
    const empty = await cli(ws, ["list"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, "no tasks\n");
    await cli(ws, ["submit", speech(ws, "short.wav", SENTENCE), "--id", "short_1", "--model", "tiny.en"]);
    const table = await cli(ws, ["list"]);
    assert.match(table.stdout, /^TASK\s+STATUS\s+CREATED\s+DETAIL\n/);
    assert.match(table.stdout, /\nshort_1\s+queued\s+\S+\s+workspace\/inbox\/short\.wav\n/);
  });

  test("while a task runs, list and status show its stage and percent; run --task ends by printing the paths it wrote", async () => {
    await cli(ws, ["submit", speech(ws, "long.wav", LONG_TEXT), "--id", "long_1", "--model", "tiny.en"]);
    const run = startCli(ws, ["run", "--task", "long_1"]);
    const finished = collect(run, 300_000);
    // The engine's worker process is frozen while we look, so the task stays in asr as long as we
    // need, while its runner stays alive and keeps its lease fresh.
    let worker = 0;
    const listed = await until(async () => {
      worker = Number(spawnSync("pgrep", ["-P", String(run.pid), "-f", "worker.py"], { encoding: "utf8" }).stdout.trim().split("\n")[0]);
      if (!worker) return null;
      process.kill(worker, "SIGSTOP");
      const list = await cli(ws, ["list"]);
      if (/long_1\s+running\s+\S+\s+asr \d+%/.test(list.stdout)) return list.stdout;
      process.kill(worker, "SIGCONT");
      return null;
    });
    try {
      assert.match(listed, /long_1\s+running/);
      const status = await cli(ws, ["status"]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^queued \d+ · running 1 · done 0 · failed 0 · canceled 0$/m);
      assert.match(status.stdout, new RegExp(`long_1\\s+asr \\d+%.*on \\S+ pid ${run.pid}`));
      assert.match(status.stdout, new RegExp(`runners alive: 1\\n\\s+\\S+ pid ${run.pid} running long_1`));
      const statusJson = JSON.parse((await cli(ws, ["status", "--json"])).stdout) as { counts: Record<string, number>; runners: { pid: number; tasks: string[] }[] };
      assert.equal(statusJson.counts.running, 1);
      assert.deepEqual(statusJson.runners.map((runner) => [runner.pid, runner.tasks]), [[run.pid, ["long_1"]]]);
    } finally {
      process.kill(worker, "SIGCONT");
    }

    const result = await finished;
    assert.equal(result.code, 0, result.stderr);
    const paths = result.stdout.trim().split("\n");
    assert.deepEqual(paths.map((file) => path.basename(file)), ["long.long_1.raw.srt", "long.long_1.refined.srt"]);
    for (const file of paths) assert.ok(path.isAbsolute(file) && existsSync(file), file);
    const idle = await cli(ws, ["status"]);
    assert.match(idle.stdout, /runners alive: 0/);

    // Progress: the slow start shows as steps of its own, then the position moves with the time left.
    const asr = readEvents(ws, "long_1").flatMap((event) => (event.type === "stage.progress" && event.payload.stage === "asr" ? [event.payload] : []));
    const firstMoving = asr.findIndex((event) => event.progress > 0);
    assert.ok(firstMoving > 0, JSON.stringify(asr));
    const before = asr.slice(0, firstMoving).map((event) => event.msg);
    assert.equal(before[0], "starting the faster_whisper engine");
    const moving = asr.slice(firstMoving, -1);
    assert.ok(moving.every((event) => /^0:00:\d\d \/ 0:00:\d\d, \d+:\d\d:\d\d left/.test(event.msg)), JSON.stringify(moving));
    assert.ok(asr.every((event, i) => i === 0 || event.progress >= (asr[i - 1]?.progress ?? 0)), JSON.stringify(asr));
  });

  test("events --since and -n narrow the stream; an unknown --task is an error, exit 2", async () => {
    const all = (await cli(ws, ["events", "--json"])).stdout.trim().split("\n");
    assert.ok(all.length > 5);
    const lastTwo = await cli(ws, ["events", "--json", "-n", "2"]);
    assert.deepEqual(lastTwo.stdout.trim().split("\n"), all.slice(-2));
    const future = await cli(ws, ["events", "--since", "2999-01-01T00:00:00Z"]);
    assert.equal(future.stdout, "");
    const recent = await cli(ws, ["events", "--json", "--since", "1h"]);
    assert.equal(recent.stdout.trim().split("\n").length, all.length);
    const typo = await cli(ws, ["events", "--task", "lnog_1"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /no task "lnog_1"/);
    const badSince = await cli(ws, ["events", "--since", "yesterday-ish"]);
    assert.equal(badSince.code, 2);
  });

  test("events piped into head ends quietly with exit 0", async () => {
    const writer = new EventWriter(path.join(ws.dir, "events"));
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writer.emit({ task_id: "burst", run_id: "run_burst" }, "stage.progress", { stage: "asr", progress: i / 3000, msg: "x".repeat(200) })));
    const piped = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" --workspace "${ws.dir}" events | head -2`], { encoding: "utf8" });
    assert.equal(piped.stdout.split("\n").length, 3);
    assert.equal(piped.stderr, "");
    assert.equal(piped.status, 0);
  });

  test("submit takes several files or a folder, --output-dir, and says when it creates a new workspace", async () => {
    const folder = path.join(ws.root, "recordings");
    mkdirSync(folder);
    for (const name of ["b.wav", "a.wav"]) copyFileSync(speech(ws, name, SENTENCE), path.join(folder, name));
    writeFileSync(path.join(folder, "notes.txt"), "not media");
    const fromFolder = await cli(ws, ["submit", folder, "--json"]);
    assert.equal(fromFolder.code, 0, fromFolder.stderr);
    const tasks = (JSON.parse(fromFolder.stdout) as { task: { input: { media: string } } }[]).map((row) => row.task.input.media);
    assert.deepEqual(tasks, ["recordings/a.wav", "recordings/b.wav"]);

    const two = await cli(ws, ["submit", path.join(folder, "a.wav"), path.join(folder, "b.wav"), "--output-dir", path.join(ws.dir, "outputs", "batch")]);
    assert.equal(two.code, 0, two.stderr);
    const ids = two.stdout.trim().split("\n");
    assert.equal(ids.length, 2);
    const shown = JSON.parse((await cli(ws, ["show", ids[0] as string, "--json"])).stdout) as { task: { output: Record<string, string> } };
    assert.deepEqual(Object.values(shown.task.output).map((file) => path.dirname(file)), ["workspace/outputs/batch", "workspace/outputs/batch"]);

    const oneId = await cli(ws, ["submit", folder, "--id", "both"]);
    assert.equal(oneId.code, 2);
    assert.match(oneId.stderr, /--id and --script name one task, but 2 media files/);
    const empty = await cli(ws, ["submit", path.join(ws.root, "recordings", "notes.txt"), path.join(ws.root, "nowhere")]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /nowhere is not a file that exists/);

    const fresh = path.join(ws.root, "fresh-workspace");
    const created = spawnSync(process.execPath, [CLI, "--workspace", fresh, "submit", path.join(folder, "a.wav")], { encoding: "utf8" });
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.stderr, `sophia-cli: created a new workspace at ${fresh}\n`);
    const again = spawnSync(process.execPath, [CLI, "--workspace", fresh, "submit", path.join(folder, "b.wav")], { encoding: "utf8" });
    assert.equal(again.stderr, "");
  });

  test("check says when a file is not a subtitle file; refine exits 0 with violations left, 1 with --strict", async () => {
    const media = await cli(ws, ["check", speech(ws, "noise.wav", SENTENCE)]);
    assert.equal(media.code, 2);
    assert.match(media.stderr, /noise\.wav is not a subtitle file \(SRT\): it is not text/);
    const prose = path.join(ws.root, "notes.txt");
    writeFileSync(prose, "Minutes of the meeting.\nEveryone agreed.\n");
    const text = await cli(ws, ["check", prose]);
    assert.equal(text.code, 2);
    assert.match(text.stderr, /notes\.txt is not a subtitle file \(SRT\): it has no cue timings/);

    // Twenty-six words in one second, with speech right after: no timing can make that readable.
    const crammed = path.join(ws.root, "crammed.srt");
    const words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu";
    writeFileSync(crammed, `1\n00:00:00,000 --> 00:00:01,000\n${words}\n\n2\n00:00:01,000 --> 00:00:09,000\nand then the meeting went on for a long while after that.\n`);
    const lenient = await cli(ws, ["refine", crammed, "-o", path.join(ws.root, "out.srt")]);
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.stderr, /"max_cps":[1-9]/);
    const strict = await cli(ws, ["refine", crammed, "--strict", "-o", path.join(ws.root, "out.srt")]);
    assert.equal(strict.code, 1);
    assert.ok(existsSync(path.join(ws.root, "out.srt")));
    assert.equal((await cli(ws, ["check", path.join(ws.root, "out.srt")])).code, 1);
  });

  test("a misspelt command or option gets one line with a suggestion, not the whole help", async () => {
    const command = await cli(ws, ["lsit"]);
    assert.equal(command.code, 2);
    assert.equal(command.stderr, "sophia-cli: unknown command 'lsit' (did you mean list?); see sophia-cli --help\n");
    const option = await cli(ws, ["run", "--concurency", "2"]);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /^sophia-cli: unknown option '--concurency' \(did you mean --concurrency\?\)/);
    assert.equal(option.stderr.split("\n").length, 2);
  });
});
