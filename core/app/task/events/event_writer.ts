/**
 * EventWriter: the only appender to the event stream `events/{UTC date}_events.jsonl`.
 *
 * Each event is one line written by one write(2) on a descriptor opened with O_APPEND. The kernel
 * places every such write at the end of the file and, for regular files on local filesystems,
 * holds the inode lock for the whole write, so lines from concurrent runner processes never
 * interleave or tear. The file name follows the event's own `ts`, so the stream rotates at UTC midnight.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { writeFailure } from "../../fs_errors.js";
import path from "node:path";
import { EventSchema, type EventPayload, type EventType, type SophiaEvent } from "../model/schema.js";

export interface EventSubject {
  task_id: string;
  run_id: string | null;
}

export type EventListener = (event: SophiaEvent) => void;

export class EventWriter {
  private dirReady: Promise<unknown> | null = null;

  constructor(
    readonly eventsDir: string,
    /** Told of every event after it is on disk: how the CLI draws progress without reading files. */
    private readonly listener: EventListener = () => undefined,
  ) {}

  async emit<T extends EventType>(subject: EventSubject, type: T, payload: EventPayload<T>): Promise<SophiaEvent> {
    const event = EventSchema.parse({
      ts: new Date().toISOString(),
      run_id: subject.run_id,
      task_id: subject.task_id,
      type,
      payload,
    }) as SophiaEvent;
    const file = eventFilePath(this.eventsDir, event.ts);
    await this.ensureDir();
    // Synchronous: a line of a few hundred bytes into the page cache takes microseconds, where the
    // async append's three hand-offs to libuv's threads (open, write, close) each wait for a time
    // slice on a busy machine, five events a task. Being synchronous also keeps this process's
    // events in the order they were emitted.
    try {
      appendLine(file, `${JSON.stringify(event)}\n`);
    } catch (error) {
      throw writeFailure(error, `append a ${type} event to ${file}`);
    }
    this.listener(event);
    return event;
  }

  /**
   * Makes sure today's event file can be appended to, writing nothing: `submit` asks before it
   * writes a task file, so a stream it cannot write leaves no task behind.
   */
  async assertWritable(): Promise<void> {
    await this.ensureDir();
    const file = eventFilePath(this.eventsDir, new Date().toISOString());
    const handle = await open(file, "a").catch((error: unknown) => {
      throw writeFailure(error, `append to the event stream ${file}`);
    });
    await handle.close();
  }

  private async ensureDir(): Promise<void> {
    this.dirReady ??= mkdir(this.eventsDir, { recursive: true }).catch((error: unknown) => {
      this.dirReady = null;
      throw writeFailure(error, `create the events folder ${this.eventsDir}`);
    });
    await this.dirReady;
  }
}

/**
 * Appends `line` as a line of its own. A write cut short by a full disk, or a writer killed
 * mid-line, leaves the file without its final newline; a line appended straight after it would be
 * glued to that fragment and lost with it. So the last byte is looked at first, and a line that
 * follows a fragment starts with a newline: the fragment stays one unreadable line, reported by
 * readers, and this event is whole on the next.
 */
function appendLine(file: string, line: string): void {
  const fd = openSync(file, "a+");
  try {
    const { size } = fstatSync(fd);
    const last = Buffer.alloc(1);
    const afterFragment = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== NEWLINE;
    const bytes = Buffer.from(afterFragment ? `\n${line}` : line, "utf8");
    // One write(2) of the whole line (see the class comment); a short one happens only when the
    // disk fills, and the rest is then written (or fails) as appendFileSync would.
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
  } finally {
    closeSync(fd);
  }
}
const NEWLINE = 0x0a;

/** `{UTC date}_events.jsonl`: the one definition of the stream's file names, for the writer and every reader. */
const EVENT_FILE = /^(\d{4}-\d{2}-\d{2})_events\.jsonl$/;

export function eventFilePath(eventsDir: string, ts: string): string {
  return path.join(eventsDir, `${ts.slice(0, 10)}_events.jsonl`);
}

/** The UTC day (YYYY-MM-DD) an event file holds, or null for a name that is not an event file. */
export function eventFileDay(name: string): string | null {
  return EVENT_FILE.exec(name)?.[1] ?? null;
}
