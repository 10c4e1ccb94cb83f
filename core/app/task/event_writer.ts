/**
 * EventWriter: the only appender to the event stream `events/{UTC date}_events.jsonl`.
 *
 * Each event is one line written by one write(2) on a descriptor opened with O_APPEND. The kernel
 * places every such write at the end of the file and, for regular files on local filesystems,
 * holds the inode lock for the whole write, so lines from concurrent runner processes never
 * interleave or tear. The file name follows the event's own `ts`, so the stream rotates at UTC midnight.
 */
import { appendFileSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { writeFailure } from "../fs_errors.js";
import path from "node:path";
import { EventSchema, type EventPayload, type EventType, type SophiaEvent } from "./schema.js";

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
      appendFileSync(file, `${JSON.stringify(event)}\n`, { flag: "a" });
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

/** `{UTC date}_events.jsonl`: the one definition of the stream's file names, for the writer and every reader. */
const EVENT_FILE = /^(\d{4}-\d{2}-\d{2})_events\.jsonl$/;

export function eventFilePath(eventsDir: string, ts: string): string {
  return path.join(eventsDir, `${ts.slice(0, 10)}_events.jsonl`);
}

/** The UTC day (YYYY-MM-DD) an event file holds, or null for a name that is not an event file. */
export function eventFileDay(name: string): string | null {
  return EVENT_FILE.exec(name)?.[1] ?? null;
}
