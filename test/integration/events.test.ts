/**
 * The event stream: one JSON object per line in events/{UTC date}_events.jsonl, never torn, even
 * with several processes appending at once; `sophia-cli events` reads and follows it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventSchema, type SophiaEvent } from "../../core/app/task/schema.js";
import { PROJECT, SENTENCE, cli, makeWorkspace, speech, startCli, waitFor, type TestWorkspace } from "../support/harness.js";

describe("events", () => {
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
