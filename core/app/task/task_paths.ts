/**
 * Every path a task reads or writes, resolved and checked once before any stage runs, so a task
 * that would write outside the workspace or over its own input fails before hours of work.
 */
import path from "node:path";
import { SophiaError } from "../errors.js";
import type { Task } from "./schema.js";
import type { Workspace } from "./workspace.js";

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

export function resolveTaskPaths(task: Task, workspace: Workspace): TaskPaths {
  const defaults = workspace.defaultOutputs(task.input.media);
  const media = workspace.resolveInput(task.input.media);
  const script = task.input.script ? workspace.resolveInput(task.input.script) : null;
  const rawSrt = workspace.resolveOutput(task.output?.raw_srt ?? defaults.raw_srt, "output.raw_srt");
  const refinedSrt = workspace.resolveOutput(task.output?.refined_srt ?? defaults.refined_srt, "output.refined_srt");

  const inputs = [
    ["input.media", media],
    ["input.script", script],
  ] as const;
  for (const [outputField, output] of [["output.raw_srt", rawSrt], ["output.refined_srt", refinedSrt]] as const) {
    for (const [inputField, input] of inputs) {
      if (input !== null && path.resolve(input) === path.resolve(output)) {
        throw new SophiaError("output_clobbers_input", `${outputField} is the same file as ${inputField} (${task.input.media}); inputs are never overwritten: choose another output path`, {
          details: { output: outputField, input: inputField },
        });
      }
    }
  }
  if (task.pipeline.includes("refine") && rawSrt === refinedSrt) {
    throw new SophiaError("output_clobbers_input", "output.raw_srt and output.refined_srt are the same file; refine reads one and writes the other", {});
  }
  return { media, script, rawSrt, refinedSrt, tmpDir: workspace.tmpDir(task.task_id), display: (p) => workspace.display(p) };
}
