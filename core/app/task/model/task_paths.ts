/**
 * Every path a task reads or writes, resolved and checked once before any stage runs (and by
 * `submit` before it writes the task), so a task that would write outside the workspace, over the
 * workspace's own files or over one of its inputs fails before hours of work.
 *
 * Paths are compared as the kernel will reach them (`realPath`: symbolic links resolved, including
 * those in the parent folders of an output that does not exist yet), never as spelled.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { SophiaError } from "../../errors.js";
import { siblingPath, type SubtitleFormat } from "../../subtitles/format_names.js";
import type { Task } from "./schema.js";
import { OUTPUT_NAME_MAX_BYTES, isInside, realPath, type Workspace } from "./workspace.js";

/** What a task writes when its `output.formats` is absent. */
export const DEFAULT_FORMATS: readonly SubtitleFormat[] = ["srt"];

/** One file a task may write, and the task-file field it comes from (for messages). */
export interface TaskOutput {
  field: string;
  path: string;
  /** As the task file writes it (or as its default reads), for messages. */
  asWritten: string;
}

export interface RefinedOutput extends TaskOutput {
  format: SubtitleFormat;
  /** output.refined_srt for SRT; beside it, with the format's extension, for the others. */
  path: string;
}

export interface TaskPaths {
  media: string;
  script: string | null;
  rawSrt: string;
  /** The raw SRT as an output: what the asr stage declares it writes. */
  raw: TaskOutput;
  refinedSrt: string;
  /** The refined subtitles in each of output.formats, in that order, without repeats. */
  refined: RefinedOutput[];
  /** `outputs/_tmp/<task_id>/`: intermediates, removed when the task ends unless kept for debugging. */
  tmpDir: string;
  /** For messages and events: a path as the task file would write it. */
  display(absolute: string): string;
  /**
   * Refuses, at the moment an output is written (writeFileAtomically's `check`), a destination
   * (a real path) that is outside the workspace, in a reserved folder, or one of the task's inputs:
   * a folder or an input swapped for a link after preflight must not redirect the write.
   */
  assertWritable(destination: string): void;
}

/** One path of a task: the field that names it, as written there, and where it really leads. */
export interface PathUse {
  field: string;
  asWritten: string;
  real: string;
}

export function resolveTaskPaths(task: Task, workspace: Workspace): TaskPaths {
  const media = workspace.resolveInput(task.input.media);
  const script = task.input.script ? workspace.resolveInput(task.input.script) : null;
  const { rawSrtAsWritten, refinedSrtAsWritten } = outputsAsWritten(task, workspace);
  const outsideAllowed = task.output?.outside_workspace === true;
  const rawSrt = workspace.resolveOutput(rawSrtAsWritten, "output.raw_srt", { outsideAllowed });
  const refinedSrt = workspace.resolveOutput(refinedSrtAsWritten, "output.refined_srt", { outsideAllowed });
  const refined = refinedOutputs(task, refinedSrt, refinedSrtAsWritten);
  const raw: TaskOutput = { field: "output.raw_srt", path: rawSrt, asWritten: rawSrtAsWritten };
  const inputsNow = (): PathUse[] => {
    const inputs: PathUse[] = [{ field: "input.media", asWritten: task.input.media, real: realPath(media) }];
    if (script && task.input.script) inputs.push({ field: "input.script", asWritten: task.input.script, real: realPath(script) });
    return inputs;
  };
  const assertWritable = (destination: string): void => {
    const output: PathUse = { field: "output", asWritten: workspace.display(destination), real: destination };
    workspace.resolveOutput(destination, "output", { outsideAllowed });
    assertNotReserved(output, workspace);
    for (const input of inputsNow()) assertDistinct(output, input);
  };
  const paths: TaskPaths = { media, script, rawSrt, raw, refinedSrt, refined, tmpDir: workspace.tmpDir(task.task_id), display: (p) => workspace.display(p), assertWritable };

  const inputs = inputsNow();
  for (const output of namedOutputs(paths)) assertNameFits(output);
  for (const output of namedOutputs(paths).map(pathUse)) {
    assertNotReserved(output, workspace);
    assertNotAFolder(output);
    for (const input of inputs) assertDistinct(output, input);
  }
  return paths;
}

/**
 * Every output the task file names (as `namedOutputs`), as it spells them made absolute: no link
 * resolved and nothing checked, so that the outputs of a whole history can be indexed cheaply
 * (output_index.ts). What a task's pipeline writes is among these.
 */
export function declaredOutputs(task: Task, workspace: Workspace): string[] {
  const { rawSrtAsWritten, refinedSrtAsWritten } = outputsAsWritten(task, workspace);
  const refinedSrt = path.resolve(workspace.root, refinedSrtAsWritten);
  return [path.resolve(workspace.root, rawSrtAsWritten), ...refinedOutputs(task, refinedSrt, refinedSrtAsWritten).map((output) => output.path)];
}

/**
 * What the task reads, as the task file names it, made absolute as `declaredOutputs` are (nothing
 * resolved or checked): input.media, input.script, and for a pipeline that refines without asr, the
 * raw SRT at output.raw_srt.
 */
export function declaredInputs(task: Task, workspace: Workspace): { field: string; path: string }[] {
  const { media, script } = task.input;
  const inputs = [{ field: "input.media", path: workspace.resolveInput(media) }];
  if (script) inputs.push({ field: "input.script", path: workspace.resolveInput(script) });
  if (task.pipeline.includes("refine") && !task.pipeline.includes("asr")) {
    inputs.push({ field: "output.raw_srt", path: path.resolve(workspace.root, outputsAsWritten(task, workspace).rawSrtAsWritten) });
  }
  return inputs;
}

function outputsAsWritten(task: Task, workspace: Workspace): { rawSrtAsWritten: string; refinedSrtAsWritten: string } {
  const { raw_srt: rawSrt, refined_srt: refinedSrt } = task.output ?? {};
  // Defaults only when one is missing: indexing a history calls this once per task file.
  if (rawSrt !== undefined && refinedSrt !== undefined) return { rawSrtAsWritten: rawSrt, refinedSrtAsWritten: refinedSrt };
  const defaults = workspace.defaultOutputs(task.input.media, task.task_id);
  return { rawSrtAsWritten: rawSrt ?? defaults.raw_srt, refinedSrtAsWritten: refinedSrt ?? defaults.refined_srt };
}

function refinedOutputs(task: Task, refinedSrt: string, refinedSrtAsWritten: string): RefinedOutput[] {
  return [...new Set(task.output?.formats ?? DEFAULT_FORMATS)].map((format): RefinedOutput => {
    if (format === "srt") return { format, field: "output.refined_srt", path: refinedSrt, asWritten: refinedSrtAsWritten };
    return { format, field: `output.formats "${format}"`, path: siblingPath(refinedSrt, format), asWritten: siblingPath(refinedSrtAsWritten, format) };
  });
}

/** Every output the task file names, whichever stages its pipeline runs: the raw SRT, then each refined format. */
export function namedOutputs(paths: TaskPaths): TaskOutput[] {
  return [paths.raw, ...paths.refined];
}

/** An output as its field names it, as written, and where it really leads. */
export function pathUse(output: TaskOutput): PathUse {
  return { field: output.field, asWritten: output.asWritten, real: realPath(output.path) };
}

function assertNotReserved(output: PathUse, workspace: Workspace): void {
  for (const { dir, holds } of workspace.reservedFolders()) {
    if (!isInside(realPath(dir), output.real)) continue;
    throw new SophiaError(
      "output_reserved",
      `${output.field} "${output.asWritten}" is inside ${workspace.display(dir)}/, which holds ${holds}: write outputs elsewhere in the workspace, e.g. under ${workspace.display(workspace.outputsDir)}/`,
      { details: { field: output.field, path: output.asWritten, resolved: output.real, reserved: dir } },
    );
  }
  if (output.real === realPath(workspace.dir)) {
    throw new SophiaError("output_reserved", `${output.field} "${output.asWritten}" is the workspace folder itself: name a file inside it`, {
      details: { field: output.field, path: output.asWritten },
    });
  }
}

/**
 * A name the filesystem would refuse (ENAMETOOLONG) fails the task before any stage, not when the
 * first output is written after hours of transcription. Default names are shortened to fit
 * (workspace.ts, `fittingStem`); a name the task gives is refused.
 */
function assertNameFits(output: TaskOutput): void {
  const name = path.basename(output.path);
  const folder = path.dirname(output.path).split(path.sep).find((part) => Buffer.byteLength(part) > 255);
  const bytes = Buffer.byteLength(name);
  if (folder === undefined && bytes <= OUTPUT_NAME_MAX_BYTES) return;
  const what = folder === undefined ? `its file name is ${bytes} bytes, over the ${OUTPUT_NAME_MAX_BYTES} a file system leaves room for` : `a folder in it is named with ${Buffer.byteLength(folder)} bytes, over the 255 a file system allows`;
  throw new SophiaError("output_name_too_long", `${output.field} "${output.asWritten}": ${what}; choose a shorter name`, {
    details: { field: output.field, path: output.asWritten },
  });
}

function assertNotAFolder(output: PathUse): void {
  if (statSync(output.real, { throwIfNoEntry: false })?.isDirectory()) {
    throw new SophiaError("output_reserved", `${output.field} "${output.asWritten}" is a folder (${output.real}): name a file`, {
      details: { field: output.field, path: output.asWritten, resolved: output.real },
    });
  }
}

/** Refuses an output that is the same file as `input` (an input of the task, or what an earlier stage writes). */
export function assertDistinct(output: PathUse, input: PathUse): void {
  if (output.real !== input.real) return;
  throw new SophiaError(
    "output_clobbers_input",
    `${output.field} "${output.asWritten}" is the same file as ${input.field} "${input.asWritten}" (both lead to ${output.real}); inputs are never overwritten: choose another output path`,
    { details: { output: output.field, input: input.field, resolved: output.real } },
  );
}
