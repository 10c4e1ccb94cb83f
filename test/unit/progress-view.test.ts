/**
 * What `run` shows on stderr: a live bar per task stage on a terminal, one line per stage start and
 * end otherwise. Driven by the events a runner emits, through a fake terminal stream (named so).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createProgressView } from "../../core/app/cli/progress_view.js";
import type { SophiaEvent } from "../../core/app/task/model/schema.js";

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = {
    isTTY,
    columns: 120,
    text: "",
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

const subject = { ts: "2026-02-06T10:31:00.000Z", run_id: "run_1", task_id: "talk" };
const events: SophiaEvent[] = [
  { ...subject, type: "stage.started", payload: { stage: "asr" } },
  { ...subject, type: "stage.progress", payload: { stage: "asr", progress: 0.5, msg: "0:00:30 / 0:01:00 hello" } },
  { ...subject, type: "stage.completed", payload: { stage: "asr", duration_sec: 12.25, summary: {} } },
];

test("on a terminal: a bar per stage that moves with the progress events", { timeout: 60_000 }, () => {
  const halfway = fakeStream(true);
  const running = createProgressView(true, halfway);
  try {
    running.onEvent(events[0] as SophiaEvent);
    running.onEvent(events[1] as SophiaEvent);
    running.log("a message between the bars");
  } finally {
    running.stop();
  }
  assert.match(halfway.text, /a message between the bars\n/);
  assert.match(halfway.text, /talk\/asr\s+\|█{15}░{15}\| 50% 0:00:30 \/ 0:01:00 hello/);

  const finished = fakeStream(true);
  const done = createProgressView(true, finished);
  try {
    for (const event of events) done.onEvent(event);
  } finally {
    done.stop();
  }
  assert.match(finished.text, /talk\/asr\s+\|█{30}\| 100% done in 12\.3 s/);
});

test("off a terminal: one line per stage start and end, no bars", { timeout: 60_000 }, () => {
  const stream = fakeStream(false);
  const view = createProgressView(true, stream);
  for (const event of events) view.onEvent(event);
  view.stop();
  assert.equal(stream.text, "talk: asr started\ntalk: asr done in 12.3 s\n");
});

test("--no-progress: stage events print nothing, messages still do", { timeout: 60_000 }, () => {
  const stream = fakeStream(true);
  const view = createProgressView(false, stream);
  for (const event of events) view.onEvent(event);
  view.log("sophia-cli: task talk done");
  assert.equal(stream.text, "sophia-cli: task talk done\n");
});
