/**
 * The event stream as an async iterator of typed events (as BullMQ's QueueEvents, but pull-based):
 * what is written, then what runners append. Reading only; EventWriter is the only writer.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { SophiaError } from "./errors.js";
import type { FollowOptions } from "./interfaces.js";
import { EventReader } from "./task/events/event_reader.js";
import type { SophiaEvent } from "./task/model/schema.js";

/** How often the stream's files are checked for new lines while following. */
const POLL_MS = 200;

export async function* followEvents(eventsDir: string, options: FollowOptions = {}): AsyncGenerator<SophiaEvent, void, undefined> {
  const { signal, follow = true } = options;
  const reader = new EventReader(eventsDir, { taskId: options.task, since: options.since === undefined ? undefined : isoInstant(options.since) });
  let lines = await reader.readNew();
  if (options.last !== undefined) lines = lines.slice(Math.max(0, lines.length - options.last));
  for (;;) {
    for (const line of lines) {
      if (signal?.aborted) return;
      if (line.event) yield line.event;
      else options.onUnreadable?.({ file: line.file, line: line.line, error: line.error });
    }
    if (!follow) {
      // Nothing will complete a line now: a torn last line is reported rather than dropped.
      for (const line of reader.unfinishedLines()) if (!line.event) options.onUnreadable?.({ file: line.file, line: line.line, error: line.error });
      return;
    }
    if (signal?.aborted) return;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) return;
    lines = await reader.readNew();
  }
}

function isoInstant(since: string | Date): string {
  const time = since instanceof Date ? since.getTime() : Date.parse(since);
  if (Number.isNaN(time)) throw new SophiaError("usage", `since ${JSON.stringify(String(since))} is not a date and time: use ISO-8601, e.g. 2026-01-31T09:00:00Z`);
  return new Date(time).toISOString();
}
