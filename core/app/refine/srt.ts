/**
 * SRT files: reading with the `subtitle` library (BOM, CRLF, missing cue numbers, WebVTT), writing
 * by hand, because `subtitle`'s formatter goes through a local-time Date and wraps after 24 hours.
 *
 * Times are seconds; a file holds whole milliseconds, so formatting rounds to them.
 */
import { parseSync } from "subtitle";
import { SophiaError, asError } from "../errors.js";

export interface Cue {
  start: number;
  end: number;
  lines: string[];
}

/** Parses SRT (or WebVTT) text; `source` names the file in errors. */
export function parseSrt(text: string, source = "SRT input"): Cue[] {
  let nodes: ReturnType<typeof parseSync>;
  try {
    nodes = parseSync(text);
  } catch (error) {
    throw new SophiaError("srt_invalid", `${source} is not valid SRT: ${asError(error).message}`, { cause: error, details: { source } });
  }
  return nodes.flatMap((node) =>
    node.type === "cue"
      ? [{ start: node.data.start / 1000, end: node.data.end / 1000, lines: node.data.text.split("\n").map((line) => line.trim()).filter((line) => line !== "") }]
      : [],
  );
}

export function formatSrt(cues: readonly Cue[]): string {
  return cues.map((cue, i) => `${i + 1}\n${timestamp(cue.start)} --> ${timestamp(cue.end)}\n${cue.lines.join("\n")}\n`).join("\n");
}

export function timestamp(seconds: number): string {
  const total = Math.max(0, Math.round(seconds * 1000));
  const ms = total % 1000;
  const s = Math.floor(total / 1000) % 60;
  const m = Math.floor(total / 60_000) % 60;
  const h = Math.floor(total / 3_600_000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)},${pad(ms, 3)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}
