/**
 * `import { openWorkspace } from "sophia"`: the library the CLI is built on. Types are in
 * interfaces.ts; every setting and its default is in config.ts.
 */
export { openWorkspace } from "./open_workspace.js";
export { resolveSettings, VERSION } from "./config.js";
export { SophiaError, isSophiaError } from "./errors.js";
export { EVENT_TYPES, TASK_STATUSES } from "./task/schema.js";
export type * from "./interfaces.js";
