/**
 * Reading the event stream: all of it, or following it as runners append (`sophia-cli events`).
 * Read-only; EventWriter is the only writer.
 */
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { SophiaEvent } from "../model/schema.js";
import { asError, describeIssues } from "../../errors.js";
import { eventFileDay } from "./event_writer.js";


export interface EventFilter {
  taskId?: string;
  /** ISO-8601 UTC: only events at or after this instant (files of earlier days are not read). */
  since?: string;
}

export type EventLine =
  | { file: string; line: number; event: SophiaEvent }
  /** A line that is not an event (garbage, `{}`, torn): skipped by readers, and reported, never hidden. */
  | { file: string; line: number; event: null; error: string };

/**
 * What a reader needs of a line to show it: the envelope, not the payload of each type, so a line
 * a newer runner wrote (a type this version does not know) is still shown.
 */
const EventEnvelopeSchema = z.object({
  ts: z.string(),
  run_id: z.string().nullable(),
  task_id: z.string(),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
});

/**
 * New bytes are read this much at a time: a day's file of a long history, or a reader that starts
 * late, never needs the whole of it in one buffer.
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The longest line a reader holds while it waits for the line's newline. Sophia's own lines are a
 * few hundred bytes (a failure's stack is capped well below this); a longer one is not an event
 * anyone wrote, and holding it whole is how 300 MB of one line once took 2.5 GB.
 */
export const EVENT_LINE_MAX_CHARS = 4 * 1024 * 1024;

interface FileState {
  bytes: number;
  lines: number;
  partial: string;
  /** Inside a line already reported as too long: its text is dropped up to its newline. */
  skipping: boolean;
  /** Keeps the bytes of a character cut by the end of a read for the next read. */
  decoder: StringDecoder;
}

/** Reads the stream from the start, oldest file first; calls `onLine` for each line that passes the filter. */
export class EventReader {
  private readonly offsets = new Map<string, FileState>();

  constructor(private readonly eventsDir: string, private readonly filter: EventFilter = {}) {}

  /** Everything appended since the last call (the first call reads all). */
  async readNew(): Promise<EventLine[]> {
    // One array for every file, filled line by line: a day can hold hundreds of thousands of lines,
    // more than a spread into push() can pass as arguments.
    const lines: EventLine[] = [];
    for (const name of await this.files()) await this.readFileFrom(path.join(this.eventsDir, name), lines);
    return lines;
  }

  private passes(line: EventLine): boolean {
    const { taskId, since } = this.filter;
    return line.event === null || ((taskId === undefined || line.event.task_id === taskId) && (since === undefined || line.event.ts >= since));
  }

  /**
   * The ends of files that stopped without a newline: a writer mid-line, or a line torn by a crash.
   * A one-shot read reports them (a follower waits for the rest instead).
   */
  unfinishedLines(): EventLine[] {
    return [...this.offsets.entries()]
      .filter(([, state]) => state.partial.trim() !== "")
      .map(([file, state]) => ({ file, line: state.lines + 1, event: null, error: "the last line has no newline (torn, or still being written)" }));
  }

  /** Calls `onLine` for every existing and future line until `signal` aborts. */
  async follow(onLine: (line: EventLine) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
    while (!signal.aborted) {
      for (const line of await this.readNew()) onLine(line);
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private async files(): Promise<string[]> {
    const names = await readdir(this.eventsDir).catch(() => [] as string[]);
    const firstDay = this.filter.since?.slice(0, 10);
    return names.filter((name) => {
      const day = eventFileDay(name);
      return day !== null && (firstDay === undefined || day >= firstDay);
    }).sort();
  }

  /** Adds to `into` the lines of `file` after the last read that pass the filter. */
  private async readFileFrom(file: string, into: EventLine[]): Promise<void> {
    const state = this.offsets.get(file) ?? { bytes: 0, lines: 0, partial: "", skipping: false, decoder: new StringDecoder("utf8") };
    this.offsets.set(file, state);
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.min(READ_CHUNK_BYTES, Math.max(0, size - state.bytes)));
      while (state.bytes < size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - state.bytes), state.bytes);
        if (bytesRead === 0) break;
        state.bytes += bytesRead;
        const parts = (state.partial + state.decoder.write(buffer.subarray(0, bytesRead))).split("\n");
        // A line without its newline yet is kept until the rest arrives.
        state.partial = parts.pop() ?? "";
        for (const text of parts) {
          if (state.skipping) {
            state.skipping = false; // the end of the line reported as too long
            continue;
          }
          if (text.trim() === "") continue;
          state.lines += 1;
          const line = parseLine(file, state.lines, text);
          if (this.passes(line)) into.push(line);
        }
        if (state.skipping) state.partial = "";
        else if (state.partial.length > EVENT_LINE_MAX_CHARS) this.tooLong(file, state, into);
      }
    } finally {
      await handle.close();
    }
  }

  /** Reported once, at once (its newline may never come), and its text dropped up to that newline. */
  private tooLong(file: string, state: FileState, into: EventLine[]): void {
    state.partial = "";
    state.skipping = true;
    state.lines += 1;
    const line: EventLine = { file, line: state.lines, event: null, error: `a line longer than ${EVENT_LINE_MAX_CHARS / (1024 * 1024)} Mi characters: not an event, skipped` };
    if (this.passes(line)) into.push(line);
  }
}

function parseLine(file: string, line: number, text: string): EventLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { file, line, event: null, error: `not JSON: ${asError(error).message}` };
  }
  const envelope = EventEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const problems = describeIssues(envelope.error, [], "(line)");
    return { file, line, event: null, error: `not an event: ${problems}` };
  }
  return { file, line, event: envelope.data as SophiaEvent };
}
