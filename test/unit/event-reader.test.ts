/**
 * The event stream's reader on what a long-lived workspace gives it: a character cut by the end of
 * what a writer has appended so far, and a day's file of hundreds of thousands of lines.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EventReader, READ_CHUNK_BYTES } from "../../core/app/task/event_reader.js";

const DAY_FILE = "2026-11-25_events.jsonl";

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
});
