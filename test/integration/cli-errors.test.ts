/**
 * Errors a new user meets that once were silent or beside the point: each gets one line that names
 * what is at fault, and its exit code. No engine runs: these are all refused or read before one.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import { CLI, SENTENCE, cli, makeWorkspace, speech, type TestWorkspace } from "../support/harness.js";

const SRT = "1\n00:00:01,000 --> 00:00:03,000\nThe meeting starts now.\n\n2\n00:00:03,500 --> 00:00:06,000\nEveryone agreed on the plan.\n";

describe("cli errors", { timeout: 120_000 }, () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = makeWorkspace();
    // Something for `events` to print.
    await new EventWriter(path.join(ws.dir, "events")).emit({ task_id: "t1", run_id: "run_1" }, "task.created", { input: "workspace/inbox/talk.wav" });
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const file = (name: string, text: string) => {
    const target = path.join(ws.root, name);
    writeFileSync(target, text);
    return target;
  };

  test("run --task with --watch says why it is refused (exit 2), not nothing", { timeout: 30_000 }, async () => {
    const result = await cli(ws, ["run", "--task", "x", "--watch"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sophia-cli: --task and --watch cannot be combined/);
  });

  for (const command of [["list"], ["events"], ["status"]]) {
    test(`${command.join(" ")} > /dev/full: one line and exit 5, not a stack`, { timeout: 30_000 }, () => {
      const result = spawnSync("sh", ["-c", `"${process.execPath}" "${CLI}" --workspace "${ws.dir}" ${command.join(" ")} > /dev/full`], { encoding: "utf8" });
      assert.equal(result.stderr, "sophia-cli: cannot write the output: no space left on the disk (ENOSPC); free some space and try again\n");
      assert.equal(result.status, 5);
    });
  }

  test("check on a FIFO says it is a FIFO, not that it is not text", { timeout: 30_000 }, async () => {
    const fifo = path.join(ws.root, "pipe.srt");
    execFileSync("mkfifo", [fifo]);
    const result = await cli(ws, ["check", fifo]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pipe\.srt is a FIFO \(named pipe\), not a regular file/);
  });

  test("an SRT with a cue past 100 hours, as Sophia writes it, is read by check", { timeout: 30_000 }, async () => {
    const long = file("long.srt", "1\n99:59:58,000 --> 100:00:01,000\nStill talking.\n\n2\n100:00:01,500 --> 100:00:04,000\nAnd now we stop.\n");
    const result = await cli(ws, ["check", long, "--json"]);
    assert.ok(result.code === 0 || result.code === 1, result.stderr);
    assert.doesNotMatch(result.stderr, /no cue timings/);
  });

  test("a script of punctuation only is refused as having no words, not as 0 % heard", { timeout: 30_000 }, async () => {
    const result = await cli(ws, ["refine", file("in.srt", SRT), "--script", file("dots.txt", "... — !!! ?\n"), "-o", path.join(ws.root, "out.srt")]);
    assert.equal(result.code, 1, "script_invalid, as for a task");
    assert.match(result.stderr, /script .*dots\.txt has no words \(only spaces or punctuation\)/);
  });

  test("an SRT given as a script is read as its cue texts: no cue numbers or timings in the subtitles", { timeout: 30_000 }, async () => {
    const out = path.join(ws.root, "from-srt-script.srt");
    const result = await cli(ws, ["refine", file("in2.srt", SRT), "--script", file("script.srt", SRT), "-o", out]);
    assert.equal(result.code, 0, result.stderr);
    const words = readFileSync(out, "utf8").split("\n").filter((line) => !/-->/.test(line) && !/^\d+$/.test(line)).join(" ");
    assert.doesNotMatch(words, /\d/, `no number or timing leaked into the text: ${words}`);
    assert.match(words, /meeting starts now/);
  });

  test("submit <folder> takes media reached through symbolic links, and says so of a link that leads nowhere", { timeout: 120_000 }, async () => {
    const folder = path.join(ws.root, "linked-media");
    mkdirSync(folder);
    copyFileSync(speech(ws, "spoken.wav", SENTENCE), path.join(folder, "a.wav"));
    symlinkSync(path.join(ws.inbox, "spoken.wav"), path.join(folder, "b.wav"));
    const submitted = await cli(ws, ["submit", folder, "--model", "tiny.en", "--json"]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const media = (JSON.parse(submitted.stdout) as { task: { input: { media: string } } }[]).map((row) => path.basename(row.task.input.media));
    assert.deepEqual(media, ["a.wav", "b.wav"]);
    symlinkSync(path.join(ws.root, "gone.wav"), path.join(folder, "c.wav"));
    const dangling = await cli(ws, ["submit", folder, "--model", "tiny.en"]);
    assert.equal(dangling.code, 2);
    assert.match(dangling.stderr, /c\.wav is a symbolic link to a file that does not exist/);
  });
});
