/**
 * A runner process that freezes itself (SIGSTOP) at one chosen point of its run and resumes when
 * the test sends SIGCONT: how a test stands in for a runner whose machine was suspended.
 *
 *   node --import tsx test/support/frozen_runner.ts <workspace> <task file> <where>
 *
 * `where`:
 *  - `in_lock`: inside the store's final write of the run, under the claim lock, after the task
 *    file was read and checked and before the new version is renamed over it;
 *  - `before_settle`: after the stage returned, before the final write is tried.
 *
 * Prints the run's outcome as one JSON line. The stage is a fake that writes the raw SRT and returns.
 */
import type { StageResult } from "../../core/app/stages/stage.js";
import { EventWriter } from "../../core/app/task/events/event_writer.js";
import type { TransitionName } from "../../core/app/task/model/lifecycle.js";
import { TaskRunner } from "../../core/app/runner/runner.js";
import type { Task } from "../../core/app/task/model/schema.js";
import type { StoredTask } from "../../core/app/task/model/stored_task.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { writeFileAtomically } from "../../core/app/atomic_write.js";

const [dir, file, where] = process.argv.slice(2) as [string, string, "in_lock" | "before_settle"];
const freeze = () => process.kill(process.pid, "SIGSTOP");

/** A real store that freezes this process inside its first final write (`in_lock`). */
class FreezingStore extends TaskStore {
  private wrapped = false;
  private frozen = false;

  override transition(file: string, name: TransitionName, change: (task: Task) => Record<string, unknown> = () => ({}), options?: { run?: string }): Promise<StoredTask> {
    if (where !== "in_lock" || name === "claim" || this.wrapped) return super.transition(file, name, change, options);
    this.wrapped = true;
    this.frozen = true;
    return super.transition(
      file,
      name,
      (task) => {
        if (this.frozen) {
          this.frozen = false; // once: a write tried again after the freeze goes its way
          freeze();
        }
        return change(task);
      },
      options,
    );
  }
}

const workspace = new Workspace(dir);
const store = new FreezingStore(workspace);
const runner = new TaskRunner({
  store,
  events: new EventWriter(workspace.eventsDir),
  keepTmp: false,
  stages: [
    {
      name: "asr",
      outputs: (paths) => [paths.raw],
      preflight: async () => undefined,
      async run({ task, paths }): Promise<StageResult> {
        await writeFileAtomically(paths.rawSrt, `asr output of ${task.task_id} by the frozen runner\n`);
        if (where === "before_settle") freeze();
        return { artifacts: [{ path: paths.rawSrt, kind: "raw_srt" }], summary: {} };
      },
    },
  ],
});
const outcome = await runner.run(await store.read(file));
process.stdout.write(`${JSON.stringify(outcome)}\n`);
process.exit(0);
