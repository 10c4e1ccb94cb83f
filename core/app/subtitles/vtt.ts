/**
 * WebVTT (W3C): the `WEBVTT` header, then one block per cue: `hh:mm:ss.mmm --> hh:mm:ss.mmm` and
 * its lines. No cue numbers (optional in VTT) and no cue settings: the player's default, bottom
 * centre, is where subtitles belong. In cue text `&`, `<` and `>` are written as character
 * references, so text can never open a tag or hold the `-->` that would end a cue's timing line.
 *
 * Read by hand: the `subtitle` library stops at cue identifiers, which other tools write.
 */
import { SophiaError } from "../errors.js";
import { formatClock, type Cue } from "./cue.js";
import { splitLines } from "./srt.js";

export function formatVtt(cues: readonly Cue[]): string {
  const blocks = cues.map((cue) => `${clock(cue.start)} --> ${clock(cue.end)}\n${cue.lines.map(escapeText).join("\n")}\n`);
  return ["WEBVTT\n", ...blocks].join("\n");
}

const TIME = String.raw`(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})`;
const TIMING_LINE = new RegExp(`^${TIME}[ \\t]+-->[ \\t]+${TIME}(?:[ \\t].*)?$`);

/** Reads WebVTT: identifiers, cue settings, NOTE, STYLE and REGION blocks are skipped, tags removed, character references decoded. */
export function parseVtt(text: string, source = "WebVTT input"): Cue[] {
  const rows = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(rows[0] ?? "")) {
    throw new SophiaError("subtitles_invalid", `${source} is not valid WebVTT: it must start with the line "WEBVTT"`, { details: { source } });
  }
  const cues: Cue[] = [];
  let row = 1;
  while (row < rows.length) {
    const blockStart = row;
    while (row < rows.length && (rows[row] as string).trim() !== "") row++;
    const block = rows.slice(blockStart, row);
    row++;
    const timing = block.findIndex((line) => line.includes("-->"));
    if (timing < 0 || timing > 1) continue; // header lines, NOTE, STYLE, REGION (or stray text): no cue
    const match = TIMING_LINE.exec((block[timing] as string).trim());
    if (!match) {
      throw new SophiaError("subtitles_invalid", `${source} is not valid WebVTT: row ${blockStart + timing + 1} is not a cue timing line ("00:00:01.000 --> 00:00:02.000")`, {
        details: { source, row: blockStart + timing + 1 },
      });
    }
    const body = block.slice(timing + 1).join("\n");
    cues.push({ start: seconds(match.slice(1, 5)), end: seconds(match.slice(5, 9)), lines: splitLines(unescapeText(body.replace(/<[^>]*>/g, ""))) });
  }
  return cues;
}

function clock(value: number): string {
  return formatClock(value, ".", 2, 3);
}

function seconds([h, m, s, ms]: (string | undefined)[]): number {
  return ((Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s)) * 1000 + Number(ms)) / 1000;
}

function escapeText(line: string): string {
  return line.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const NAMED_REFERENCES: Record<string, string> = { amp: "&", lt: "<", gt: ">", nbsp: "\u00A0", lrm: "\u200E", rlm: "\u200F" };

function unescapeText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (reference, name: string) => {
    if (/^#x/i.test(name)) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return NAMED_REFERENCES[name] ?? reference;
  });
}
