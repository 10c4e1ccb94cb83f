/**
 * `import { openWorkspace } from "sophia"`: the library the CLI is built on. Types are in
 * interfaces.ts; every setting and its default is in config.ts.
 */
export { openWorkspace } from "./open_workspace.js";
export { resolveSettings, VERSION } from "./config.js";
export { SophiaError, isSophiaError } from "./errors.js";
export { setupPython, type SetupPythonOptions } from "./engines/faster_whisper/python_setup.js";
export { EVENT_TYPES, TASK_STATUSES } from "./task/model/schema.js";
// Subtitle files: what an editor needs to read Sophia's JSON and write any format after an edit.
export { SUBTITLE_FORMATS, formatSubtitles, parseSubtitles, type Cue, type SubtitleDocument, type SubtitleFormat, type WriteOptions } from "./subtitles/index.js";
export type * from "./interfaces.js";
