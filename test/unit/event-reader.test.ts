/**
 * The event stream's reader on what a long-lived workspace gives it: a character cut by the end of
 * what a writer has appended so far, and a day's file of hundreds of thousands of lines.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventReader, READ_CHUNK_BYTES } from "../../core/app/task/events/event_reader.js";

const DAY_FILE = "2026-11-25_events.jsonl";
/** The spec's bound on a line a reader holds (§2.4). */
const EVENT_LINE_MAX_CHARS = 4 * 1024 * 1024;

function eventLine(taskId: string, msg: string): string {
  return `${JSON.stringify({ ts: "2026-11-25T10:00:00.000Z", run_id: "run_1", task_id: taskId, type: "stage.progress", payload: { stage: "asr", progress: 0.5, msg } })}\n`;
}

describe("event reader", { timeout: 60_000 }, () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "sophia-event-reader-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a character whose bytes arrive in two appends is read whole, not as two replacement characters", async () => {
    const events = mkdtempSync(path.join(dir, "cut-"));
    const file = path.join(events, DAY_FILE);
    const line = Buffer.from(eventLine("talk_1", "transcribing 会议记录"), "utf8");
    const cut = line.indexOf(Buffer.from("会", "utf8")) + 1; // inside the first character's three bytes
    writeFileSync(file, line.subarray(0, cut));
    const reader = new EventReader(events);
    assert.deepEqual(await reader.readNew(), []);
    appendFileSync(file, line.subarray(cut));
    const [read] = await reader.readNew();
    assert.ok(read?.event, `the line parses: ${JSON.stringify(read)}`);
    assert.equal((read.event.payload as { msg: string }).msg, "transcribing 会议记录");
  });

  test("a day of 200,000 lines, larger than one read, is read whole and filtered by task", async () => {
    const events = mkdtempSync(path.join(dir, "long-"));
    const lines = Array.from({ length: 200_000 }, (_, k) => eventLine(k % 4 === 0 ? "wanted_1" : `other_${k % 4}`, `step ${k} — é`));
    const text = lines.join("");
    assert.ok(Buffer.byteLength(text) > 10 * READ_CHUNK_BYTES, "the file spans many reads");
    writeFileSync(path.join(events, DAY_FILE), text);
    const all = await new EventReader(events).readNew();
    assert.equal(all.length, 200_000);
    assert.ok(all.every((line) => line.event !== null));
    const wanted = await new EventReader(events, { taskId: "wanted_1" }).readNew();
    assert.equal(wanted.length, 50_000);
    assert.deepEqual(
      wanted.slice(0, 2).map((line) => [line.line, (line.event?.payload as { msg: string }).msg]),
      [
        [1, "step 0 — é"],
        [5, "step 4 — é"],
      ],
    );
  });

  test("a line that never ends is reported once it passes the limit, not held: the events after its newline are read", { timeout: 60_000 }, async () => {
    const events = mkdtempSync(path.join(dir, "endless-"));
    const file = path.join(events, DAY_FILE);
    writeFileSync(file, eventLine("before_1", "first"));
    const fd = openSync(file, "a");
    const block = Buffer.alloc(READ_CHUNK_BYTES, "x");
    for (let written = 0; written <= EVENT_LINE_MAX_CHARS + READ_CHUNK_BYTES; written += block.length) writeSync(fd, block);
    closeSync(fd);
    const reader = new EventReader(events);
    const first = await reader.readNew();
    assert.deepEqual(
      first.map((line) => (line.event ? line.event.task_id : line.error)),
      ["before_1", `a line longer than ${EVENT_LINE_MAX_CHARS / (1024 * 1024)} Mi characters: not an event, skipped`],
      "reported while its newline has not come",
    );
    assert.deepEqual(reader.unfinishedLines(), [], "nothing of it is held");
    appendFileSync(file, Buffer.alloc(READ_CHUNK_BYTES, "y"));
    appendFileSync(file, `yyy\n${eventLine("after_1", "next")}`);
    const next = await reader.readNew();
    assert.deepEqual(next.map((line) => [line.line, (line.event ? line.event.task_id : line.error)]), [[3, "after_1"]], "reported once; the line after it is read");
  });
});
