/**
 * Test helper process: appends COUNT large events through EventWriter as fast as it can, so several
 * of these at once show whether lines from concurrent writers ever tear or interleave.
 * Usage: node --import tsx event_burst.ts EVENTS_DIR WRITER_ID COUNT
 */
import { EventWriter } from "../../core/app/task/events/event_writer.js";

const [eventsDir, writer, count] = process.argv.slice(2) as [string, string, string];
const events = new EventWriter(eventsDir);
const filler = `${writer}:`.padEnd(6000, writer.slice(-1));
const writes: Promise<unknown>[] = [];
for (let i = 0; i < Number(count); i++) {
  writes.push(events.emit({ task_id: writer, run_id: `run_${writer}` }, "stage.progress", { stage: "asr", progress: i / Number(count), msg: `${i} ${filler}` }));
}
await Promise.all(writes);
