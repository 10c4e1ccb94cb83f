/**
 * Every path a task reads or writes, resolved and checked once before any stage runs (and by
 * `submit` before it writes the task), so a task that would write outside the workspace, over the
 * workspace's own files or over one of its inputs fails before hours of work.
 *
 * Paths are compared as the kernel will reach them (`realPath`: symbolic links resolved, including
 * those in the parent folders of an output that does not exist yet), never as spelled.
 */
import { statSync } from "node:fs";
import { SophiaError } from "../errors.js";
import type { Task } from "./schema.js";
import { isInside, realPath, type Workspace } from "./workspace.js";

export interface TaskPaths {
  media: string;
  script: string | null;
  rawSrt: string;
  refinedSrt: string;
  /** `outputs/_tmp/<task_id>/`: intermediates, removed when the task ends unless kept for debugging. */
  tmpDir: string;
  /** For messages and events: a path as the task file would write it. */
  display(absolute: string): string;
}

/** One path of a task: the field that names it, as written there, and where it really leads. */
interface PathUse {
  field: string;
  asWritten: string;
  real: string;
}

export function resolveTaskPaths(task: Task, workspace: Workspace): TaskPaths {
  const defaults = workspace.defaultOutputs(task.input.media);
  const media = workspace.resolveInput(task.input.media);
  const script = task.input.script ? workspace.resolveInput(task.input.script) : null;
  const rawSrtAsWritten = task.output?.raw_srt ?? defaults.raw_srt;
  const refinedSrtAsWritten = task.output?.refined_srt ?? defaults.refined_srt;
  const rawSrt = workspace.resolveOutput(rawSrtAsWritten, "output.raw_srt");
  const refinedSrt = workspace.resolveOutput(refinedSrtAsWritten, "output.refined_srt");

  const inputs: PathUse[] = [{ field: "input.media", asWritten: task.input.media, real: realPath(media) }];
  if (script && task.input.script) inputs.push({ field: "input.script", asWritten: task.input.script, real: realPath(script) });
  const raw: PathUse = { field: "output.raw_srt", asWritten: rawSrtAsWritten, real: realPath(rawSrt) };
  const refined: PathUse = { field: "output.refined_srt", asWritten: refinedSrtAsWritten, real: realPath(refinedSrt) };
  for (const output of [raw, refined]) {
    assertNotReserved(output, workspace);
    assertNotAFolder(output);
    for (const input of inputs) assertDistinct(output, input);
  }
  // refine reads the raw SRT (in a refine-only pipeline) or at least must not replace it.
  if (task.pipeline.includes("refine")) assertDistinct(refined, raw);
  return { media, script, rawSrt, refinedSrt, tmpDir: workspace.tmpDir(task.task_id), display: (p) => workspace.display(p) };
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

function assertNotAFolder(output: PathUse): void {
  if (statSync(output.real, { throwIfNoEntry: false })?.isDirectory()) {
    throw new SophiaError("output_reserved", `${output.field} "${output.asWritten}" is a folder (${output.real}): name a file`, {
      details: { field: output.field, path: output.asWritten, resolved: output.real },
    });
  }
}

function assertDistinct(output: PathUse, input: PathUse): void {
  if (output.real !== input.real) return;
  throw new SophiaError(
    "output_clobbers_input",
    `${output.field} "${output.asWritten}" is the same file as ${input.field} "${input.asWritten}" (both lead to ${output.real}); inputs are never overwritten: choose another output path`,
    { details: { output: output.field, input: input.field, resolved: output.real } },
  );
}
