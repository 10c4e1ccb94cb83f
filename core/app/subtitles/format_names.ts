/**
 * The subtitle formats by name, without their readers and writers: what the task schema, the task
 * paths and the CLI's flags need, so that `list` or `submit` does not load every format to name them.
 */
import path from "node:path";

/** The file extension of each format is its name. */
export const SUBTITLE_FORMATS = ["srt", "vtt", "ass", "txt", "json", "tsv"] as const;
export type SubtitleFormat = (typeof SUBTITLE_FORMATS)[number];

export function isSubtitleFormat(name: string): name is SubtitleFormat {
  return (SUBTITLE_FORMATS as readonly string[]).includes(name);
}

/** `talk.refined.srt` → `talk.refined.vtt`: the sibling of a subtitle file in another format. */
export function siblingPath(file: string, format: SubtitleFormat): string {
  const extension = path.extname(file);
  return `${extension ? file.slice(0, -extension.length) : file}.${format}`;
}
