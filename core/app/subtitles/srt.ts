/**
 * SRT files: reading with the `subtitle` library (BOM, CRLF, missing cue numbers), writing by hand,
 * because `subtitle`'s formatter goes through a local-time Date and wraps after 24 hours.
 */
import { parseSync } from "subtitle";
import { SophiaError, asError } from "../errors.js";
import { formatClock, type Cue } from "./cue.js";

/**
 * A cue timing line: what every SRT has and no other text file does. Hours take as many digits as
 * they need: Sophia writes `100:00:00,000` for a cue past 100 hours, and reads it back.
 */
export const SRT_TIMING = /\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d+:\d{2}:\d{2}[,.]\d{1,3}/;

/** Parses SRT text; `source` names the file in errors. */
export function parseSrt(text: string, source = "SRT input"): Cue[] {
  let nodes: ReturnType<typeof parseSync>;
  try {
    nodes = parseSync(text);
  } catch (error) {
    throw new SophiaError("srt_invalid", `${source} is not valid SRT: ${asError(error).message}`, { cause: error, details: { source } });
  }
  return nodes.flatMap((node) => (node.type === "cue" ? [{ start: node.data.start / 1000, end: node.data.end / 1000, lines: splitLines(node.data.text) }] : []));
}

export function formatSrt(cues: readonly Cue[]): string {
  return cues.map((cue, i) => `${i + 1}\n${timestamp(cue.start)} --> ${timestamp(cue.end)}\n${cue.lines.map(withoutCueArrow).join("\n")}\n`).join("\n");
}

export function timestamp(seconds: number): string {
  return formatClock(seconds, ",", 2, 3);
}

/** A cue's text as lines, trimmed, blank ones dropped. */
export function splitLines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/**
 * A cue's text may not hold `-->`, which would read as a timing line; Whisper writes `->` instead.
 * One pass of replaceAll is not enough: "--->" would become "-->" again, so every run of dashes
 * before a `>` shrinks to one.
 */
export function withoutCueArrow(line: string): string {
  return line.replace(/-{2,}>/g, "->");
}
