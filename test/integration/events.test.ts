/**
 * The event stream: one JSON object per line in events/{UTC date}_events.jsonl, never torn, even
 * with several processes appending at once; `sophia-cli events` reads and follows it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventSchema, type SophiaEvent } from "../../core/app/task/model/schema.js";
import { PROJECT, SENTENCE, cli, makeWorkspace, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("events", { timeout: 300_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("events from concurrent writer processes all parse, none torn or interleaved", async () => {
    const eventsDir = path.join(ws.dir, "events");
    const writers = ["w1", "w2", "w3", "w4"];
    const perWriter = 400;
    await Promise.all(
      writers.map(
        (writer) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT, "test/support/event_burst.ts"), eventsDir, writer, String(perWriter)], { cwd: PROJECT, stdio: "inherit" });
            child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}`))));
          }),
      ),
    );
    const files = readdirSync(eventsDir);
    assert.ok(files.every((name) => /^\d{4}-\d{2}-\d{2}_events\.jsonl$/.test(name)), files.join(","));
    const lines = files.flatMap((name) => readFileSync(path.join(eventsDir, name), "utf8").split("\n").filter(Boolean).map((text) => ({ name, text })));
    assert.equal(lines.length, writers.length * perWriter);
    const seen = new Map<string, number>();
    for (const { name, text } of lines) {
      const event = EventSchema.parse(JSON.parse(text)) as SophiaEvent;
      assert.ok(event.type === "stage.progress" && event.payload.msg.length > 6000 && event.payload.msg.endsWith(event.task_id.slice(-1)), "the line is one writer's, whole");
      assert.equal(`${event.ts.slice(0, 10)}_events.jsonl`, name, "each event sits in the file of its own UTC date");
      seen.set(event.task_id, (seen.get(event.task_id) ?? 0) + 1);
    }
    assert.deepEqual([...seen.values()], writers.map(() => perWriter));
  });

  test("a writer in a time zone whose date is not UTC's still names the file by the UTC date", async () => {
    // Whatever the hour, one of UTC+14 and UTC−12 is on another date than UTC: pick that one.
    const zone = new Date().getUTCHours() >= 12 ? "Pacific/Kiritimati" : "Etc/GMT+12";
    const eventsDir = path.join(ws.dir, "events-in-another-zone");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT, "test/support/event_burst.ts"), eventsDir, "tz", "3"], { cwd: PROJECT, stdio: "inherit", env: { ...process.env, TZ: zone } });
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
    });
    const localDay = new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
    assert.notEqual(localDay, new Date().toISOString().slice(0, 10), `${zone} is on another date than UTC now`);
    const files = readdirSync(eventsDir);
    assert.ok(files.length > 0, "events written");
    for (const name of files) {
      const days = readFileSync(path.join(eventsDir, name), "utf8").split("\n").filter(Boolean).map((line) => (JSON.parse(line) as SophiaEvent).ts.slice(0, 10));
      for (const day of days) assert.equal(name, `${day}_events.jsonl`, `written with TZ=${zone}`);
    }
  });

  test("`events` skips lines that are not events ({}, garbage, torn) and reports them, never crashing", async () => {
    const torn = makeWorkspace();
    try {
      const eventsDir = path.join(torn.dir, "events");
      mkdirSync(eventsDir);
      const good = (taskId: string) => JSON.stringify({ ts: "2026-02-06T10:31:00.123Z", run_id: "r", task_id: taskId, type: "task.created", payload: { input: "a.wav" } });
      const lines = [good("first"), "{}", "garbage {", "null", JSON.stringify({ ts: 1, task_id: "x", type: "task.created", payload: {} }), good("second"), '{"ts":"2026-02-06T10:31:00.123Z","run_id":"r","task_'];
      writeFileSync(path.join(eventsDir, "2026-02-06_events.jsonl"), lines.join("\n"));

      const text = await cli(torn, ["events"]);
      assert.equal(text.code, 0, text.stderr);
      assert.deepEqual(text.stdout.trim().split("\n").map((line) => line.split(/\s+/)[2]), ["first", "second"]);
      assert.match(text.stderr, /^sophia-cli: skipped 5 lines that are not an event: .*2026-02-06_events\.jsonl:2 \(not an event: .*\).*:3 \(not JSON: /);
      assert.match(text.stderr, /:7 \(the last line has no newline/);
      assert.equal(text.stderr.trim().split("\n").length, 1, "one line on stderr");

      const json = await cli(torn, ["events", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(json.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { task_id: string }).task_id), ["first", "second"]);
      const report = JSON.parse(json.stderr) as { skipped_lines: number; lines: { line: number }[] };
      assert.equal(report.skipped_lines, 5);
      assert.deepEqual(report.lines.map((line) => line.line), [2, 3, 4, 5, 7]);
    } finally {
      rmSync(torn.root, { recursive: true, force: true });
    }
  });

  test("`events --follow` prints events as they are appended, filtered by task", async () => {
    speech(ws, "hello.wav", SENTENCE);
    const follower = startCli(ws, ["events", "--follow", "--json", "--task", "followed"]);
    let out = "";
    follower.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const submitted = await cli(ws, ["submit", path.join(ws.inbox, "hello.wav"), "--id", "followed", "--run-id", "run_follow"]);
    assert.equal(submitted.code, 0, submitted.stderr);
    await cli(ws, ["submit", path.join(ws.inbox, "hello.wav"), "--id", "not_followed"]);
    await waitFor("the followed task.created line", () => out.includes("task.created"), 10_000);
    follower.kill("SIGTERM");
    const lines = out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { type: string; task_id: string; run_id: string; payload: unknown });
    assert.deepEqual(lines.map((event) => [event.type, event.task_id, event.run_id]), [["task.created", "followed", "run_follow"]]);
    assert.deepEqual(lines[0]?.payload, { input: "workspace/inbox/hello.wav" });
  });
});
