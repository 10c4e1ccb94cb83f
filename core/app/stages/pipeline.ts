/**
 * The pipeline as a task's stages make it: which files it writes, in the order its stages run.
 * Here, beside the stages, so that the task model (task_paths.ts) knows nothing of stages.
 */
import { SophiaError } from "../errors.js";
import type { Task } from "../task/model/schema.js";
import { assertDistinct, pathUse, type TaskOutput, type TaskPaths } from "../task/model/task_paths.js";
import type { Stage } from "./stage.js";

/**
 * The files the task's pipeline writes, as its stages declare them (Stage.outputs). Refused when a
 * stage would write over what a stage it comes after writes (it reads that, or at least must not
 * replace it), or when two of one stage's outputs are one file. A stage the runner does not have
 * writes nothing here: the runner refuses it (stage_unknown).
 */
export function pipelineOutputs(task: Task, paths: TaskPaths, stages: readonly Stage[]): TaskOutput[] {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const written: TaskOutput[] = [];
  for (const name of task.pipeline) {
    const stage = byName.get(name);
    if (!stage) continue;
    const own = stage.outputs(paths);
    const ownUses = own.map(pathUse);
    const readUses = (stage.after ?? []).flatMap((before) => byName.get(before)?.outputs(paths) ?? []).map(pathUse);
    for (const output of ownUses) for (const read of readUses) assertDistinct(output, read);
    ownUses.forEach((output, i) => {
      const twin = ownUses.slice(0, i).find((other) => other.real === output.real);
      if (twin) {
        throw new SophiaError("output_clobbers_input", `${twin.field} and ${output.field} are the same file (${output.real}); each output needs a file of its own`, {
          details: { outputs: [twin.field, output.field], resolved: output.real },
        });
      }
    });
    written.push(...own);
  }
  return written;
}
