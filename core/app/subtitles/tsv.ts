/**
 * Tab-separated values, as Whisper writes them: a `start	end	text` header, then one row per cue
 * with the times in whole milliseconds and the cue's lines joined by a space (a tab in the text
 * becomes a space). Spreadsheets and scripts read it without a subtitle library.
 */
import { SophiaError } from "../errors.js";
import { oneLine, type Cue } from "./cue.js";

const HEADER = "start\tend\ttext";

export function formatTsv(cues: readonly Cue[]): string {
  const rows = cues.map((cue) => `${Math.round(cue.start * 1000)}\t${Math.round(cue.end * 1000)}\t${oneLine(cue).replace(/\t/g, " ")}`);
  return `${[HEADER, ...rows].join("\n")}\n`;
}

export function parseTsv(text: string, source = "TSV input"): Cue[] {
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  return rows.flatMap((row, index) => {
    if (row.trim() === "" || (index === 0 && row.trim() === HEADER)) return [];
    const match = /^(\d+)\t(\d+)\t(.*)$/.exec(row);
    if (!match) {
      throw new SophiaError("subtitles_invalid", `${source} is not valid TSV: row ${index + 1} is not "start<TAB>end<TAB>text" with times in milliseconds`, {
        details: { source, row: index + 1 },
      });
    }
    const line = (match[3] as string).trim();
    return [{ start: Number(match[1]) / 1000, end: Number(match[2]) / 1000, lines: line === "" ? [] : [line] }];
  });
}
