/**
 * Outputs never collide: a file one task writes is not silently replaced by another's.
 *
 * A task owns the files its pipeline writes (the raw SRT with asr, each refined format with
 * refine) while it is queued, running or done; a failed or canceled task owns nothing (a canceled
 * one has removed its outputs; a failed one may be retried, and then meets this rule itself). Paths
 * are compared as real paths, so a symbolic link does not hide a collision.
 *
 *  - At submit, an output that a queued, running or done task owns is refused.
 *  - Before the first stage runs, an output that a done task owns, or a running task that started
 *    first (its `started_at`, then its file name), fails the task. Queued tasks do not count here:
 *    of two queued tasks with one output the first to start owns it, and the other fails when it
 *    starts, whichever order the runners take them in.
 *
 * `output.overwrite: true` lifts the rule for that task. Files no task owns (a file the user put
 * in the workspace) are replaced as before, except an input (input.media, input.script, a
 * refine-only task's raw SRT) of a task that is queued or running: no output lands on one, with or
 * without `overwrite`.
 *
 * The check reads no history: the store's output index (output_index.ts) names the tasks whose
 * task file names an output of the same file name in a folder that leads to the same place, and
 * only those are judged, their paths resolved as always; a start takes the store's last listing of
 * the folder while it is recent (store.ts, outputClaimants). (An
 * output of another task that is itself a symbolic link is not followed: outputs are written by
 * rename, so a task's output is a file, never a link.)
 */
import { SophiaError, isSophiaError } from "../errors.js";
import type { Stage } from "../stages/stage.js";
import type { Task } from "../task/model/schema.js";
import type { StoredTask } from "../task/model/stored_task.js";
import type { TaskStore } from "../task/store/store.js";
import { pipelineOutputs } from "../stages/pipeline.js";
import { declaredInputs, resolveTaskPaths, type TaskOutput, type TaskPaths } from "../task/model/task_paths.js";
import { realPath } from "../task/model/workspace.js";

export type OwnershipCheck = { when: "submit" } | { when: "start"; file: string };

/** `stages` are the runner's: they declare what each task's pipeline writes. */
export async function assertOutputsFree(store: TaskStore, task: Task, paths: TaskPaths, stages: readonly Stage[], check: OwnershipCheck): Promise<void> {
  const mine = new Map(pipelineOutputs(task, paths, stages).map((output) => [realPath(output.path), output]));
  if (mine.size === 0) return;
  for (const stored of await store.outputClaimants([...mine.keys()], check.when)) {
    if (stored.task.task_id === task.task_id) continue;
    assertNotTheirInput(stored.task, mine, paths, store);
    // `output.overwrite` lifts the ownership rule, never the inputs rule above.
    if (task.output?.overwrite === true || !ownsFirst(stored, task, check)) continue;
    const other = stored.task;
    for (const theirs of outputsOf(other, store, stages)) {
      const output = mine.get(realPath(theirs));
      if (!output) continue;
      throw new SophiaError(
        "output_taken",
        `${output.field} ${paths.display(output.path)} belongs to task ${other.task_id} (${other.status}); choose another path, or set "overwrite": true under "output" to replace it`,
        { details: { field: output.field, path: paths.display(output.path), owner: other.task_id, owner_status: other.status } },
      );
    }
  }
}

/**
 * Every input of every task not yet finished (queued or running) is an input (declaredInputs: its
 * media, its script, the raw SRT a refine-only task reads): no output lands on one, whatever
 * `overwrite` says. A done, failed or canceled task's inputs are the user's files again.
 */
function assertNotTheirInput(other: Task, mine: ReadonlyMap<string, TaskOutput>, paths: TaskPaths, store: TaskStore): void {
  if (other.status !== "queued" && other.status !== "running") return;
  for (const input of declaredInputs(other, store.workspace)) {
    const output = mine.get(realPath(input.path));
    if (!output) continue;
    throw new SophiaError(
      "output_clobbers_input",
      `${output.field} ${paths.display(output.path)} is the ${input.field} of task ${other.task_id} (${other.status}), which reads it; inputs are never overwritten: choose another output path`,
      { details: { field: output.field, path: paths.display(output.path), input_of: other.task_id, input: input.field } },
    );
  }
}

/** Whether `other` owns its outputs ahead of `task`, by the rule above. */
function ownsFirst(other: StoredTask, task: Task, check: OwnershipCheck): boolean {
  const { status } = other.task;
  if (status === "done") return true;
  if (check.when === "submit") return status === "queued" || status === "running";
  if (status !== "running") return false;
  const theirs = Date.parse(other.task.started_at ?? "");
  const mine = Date.parse(task.started_at ?? "");
  return theirs < mine || (theirs === mine && other.file < check.file);
}

/** Another task's outputs; a task whose paths do not resolve (it fails on its own) owns none. */
function outputsOf(task: Task, store: TaskStore, stages: readonly Stage[]): string[] {
  try {
    return pipelineOutputs(task, resolveTaskPaths(task, store.workspace), stages).map((output) => output.path);
  } catch (error) {
    if (isSophiaError(error)) return [];
    throw error;
  }
}
