/** Subtitle files, shared by asr (the raw SRT) and refine (every format): cues in, text out, and back. */
export type { Cue } from "./cue.js";
export { SUBTITLE_FORMATS, formatOfFile, formatSubtitles, inputFormatOf, isSubtitleFormat, parseSubtitles, siblingPath, type ReadableFormat, type SubtitleFormat, type WriteOptions } from "./formats.js";
export { SubtitleDocumentSchema, type SubtitleDocument } from "./json.js";
export { formatSrt, parseSrt } from "./srt.js";
