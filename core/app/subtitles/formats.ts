/**
 * Every subtitle format Sophia writes (their names in format_names.ts: the one list the task schema's
 * `output.formats`, `submit --format` and `refine -o <file>` (by extension) use), and the readers
 * `check` and `refine` use for their input.
 */
import path from "node:path";
import { SophiaError } from "../errors.js";
import { formatAss, parseAss } from "./ass.js";
import type { Cue } from "./cue.js";
import { formatJson, parseJson } from "./json.js";
import { formatSrt, parseSrt } from "./srt.js";
import { formatTsv, parseTsv } from "./tsv.js";
import { formatTxt } from "./txt.js";
import { formatVtt, parseVtt } from "./vtt.js";
import { SUBTITLE_FORMATS, isSubtitleFormat, type SubtitleFormat } from "./format_names.js";

export { SUBTITLE_FORMATS, isSubtitleFormat, siblingPath, type SubtitleFormat } from "./format_names.js";

export interface WriteOptions {
  /** ASS only: highlight each word as it is spoken (`\k` tags). */
  karaoke?: boolean;
  /** JSON only: the spoken language, when known. */
  language?: string | null;
}

const WRITERS: Record<SubtitleFormat, (cues: readonly Cue[], options: WriteOptions) => string> = {
  srt: formatSrt,
  vtt: formatVtt,
  ass: formatAss,
  txt: formatTxt,
  json: formatJson,
  tsv: formatTsv,
};

/** TXT holds no times, so it cannot be read back as cues: a .txt file is read as SRT, and refused unless it is one. */
const READERS: Record<Exclude<SubtitleFormat, "txt">, (text: string, source: string) => Cue[]> = {
  srt: parseSrt,
  vtt: parseVtt,
  ass: parseAss,
  json: parseJson,
  tsv: parseTsv,
};

export function formatSubtitles(format: SubtitleFormat, cues: readonly Cue[], options: WriteOptions = {}): string {
  return WRITERS[format](cues, options);
}

/** The format a file name asks for, by its extension (any case); refused, naming the ones there are, when it is none of them. */
export function formatOfFile(file: string, what: string): SubtitleFormat {
  const extension = path.extname(file).slice(1).toLowerCase();
  if (isSubtitleFormat(extension)) return extension;
  throw new SophiaError("usage", `${what} ${file}: ${extension ? `".${extension}" is not a subtitle format Sophia writes` : "no extension to tell the format by"}; use one of ${SUBTITLE_FORMATS.map((name) => `.${name}`).join(", ")}`, {
    details: { file },
  });
}

export type ReadableFormat = keyof typeof READERS;

/** What a file is read as: the format its extension names when Sophia reads it, else SRT (the format a file without one most likely is). */
export function inputFormatOf(file: string): ReadableFormat {
  const extension = path.extname(file).slice(1).toLowerCase();
  return extension in READERS ? (extension as ReadableFormat) : "srt";
}

/** Cues from a subtitle file's text, read as `inputFormatOf` says; `file` names it in errors. */
export function parseSubtitles(text: string, file: string): Cue[] {
  return READERS[inputFormatOf(file)](text, file);
}
