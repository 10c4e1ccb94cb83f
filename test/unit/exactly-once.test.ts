/**
 * Exactly once when a frozen runner resumes. Runner A, a process of its own
 * (test/support/frozen_runner.ts), freezes itself (SIGSTOP) at the end of its run: inside its final
 * write, under the claim lock, after it read and checked the task file; or just before that write.
 * Runner B, a real TaskRunner on a real store in this process, recovers the task once A's lease is
 * stale, and leaves it running, done, failed or canceled. Then A resumes (SIGCONT): it must write
 * nothing, whatever B left, and say it was superseded.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomically } from "../../core/app/atomic_write.js";
import { SophiaError } from "../../core/app/errors.js";
import type { Stage, StageContext, StageResult } from "../../core/app/stages/stage.js";
import { cancelTask } from "../../core/app/control.js";
import { recoverOrphans } from "../../core/app/runner/recovery.js";
import { TaskRunner, type RunOutcome } from "../../core/app/runner/runner.js";
import { TaskStore } from "../../core/app/task/store/store.js";
import { PROJECT, waitFor } from "../support/harness.js";
import { aborted, deferred, eventsOf, fakeWorkspace, queueTask, taskOnDisk, type Deferred, type FakeWorkspace } from "../support/fake_pipeline.js";

const LEFT_BY_B = ["running", "done", "failed", "canceled"] as const;
const FROZEN_AT = ["in_lock", "before_settle"] as const;

/** B's stage: returns at once (done), fails (failed), or runs until the test lets it go or aborts it (running, canceled). */
class SecondOwnerStage implements Stage {
  readonly name = "asr";
  readonly gates = new Map<string, Deferred<void>>();
  readonly started = new Set<string>();
  outputs = (paths: StageContext["paths"]) => [paths.raw];
  async preflight(): Promise<void> {}

  async run({ task, paths, signal }: StageContext): Promise<StageResult> {
    await writeFileAtomically(paths.rawSrt, `asr output of ${task.task_id} by the new owner\n`);
    const left = task.task_id.split("_")[0];
    if (left === "failed") throw new SophiaError("internal", "the new owner's run failed");
    if (left === "running" || left === "canceled") {
      const gate = deferred();
      this.gates.set(task.task_id, gate);
      this.started.add(task.task_id);
      await Promise.race([gate.promise, aborted(signal).then(() => Promise.reject(signal.reason as Error))]);
    }
    return { artifacts: [{ path: paths.rawSrt, kind: "raw_srt" }], summary: {} };
  }
}

function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

function outcomeOf(child: ChildProcess): Promise<RunOutcome> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      if (code === 0) resolve(JSON.parse(stdout.trim()) as RunOutcome);
      else reject(new Error(`frozen runner exited ${code}: ${stderr}`));
    });
  });
}

describe("exactly once across a frozen runner", { timeout: 120_000 }, () => {
  let fx: FakeWorkspace;
  const children: ChildProcess[] = [];
  before(() => (fx = fakeWorkspace()));
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    fx.dispose();
  });

  test("a runner resumed after another took its task over writes nothing, whether the new owner left it running, done, failed or canceled", { timeout: 120_000 }, async () => {
    const cases = LEFT_BY_B.flatMap((left) => FROZEN_AT.map((where) => ({ id: `${left}_${where}`, left, where, file: "" })));
    for (const one of cases) one.file = queueTask(fx.workspace, one.id);
    const resumed = cases.map(({ file, where }) => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT, "test/support/frozen_runner.ts"), fx.workspace.dir, file, where], { cwd: PROJECT, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      return outcomeOf(child);
    });
    await waitFor("every runner A frozen", () => children.every((child) => child.pid !== undefined && isStopped(child.pid)), 60_000, 100);

    // B recovers each task once A's lease is stale (A holds its claim lock too, when frozen in its write).
    const storeB = new TaskStore(fx.workspace);
    const recovered = new Set<string>();
    for (const deadline = Date.now() + 40_000; recovered.size < cases.length; await sleep(250)) {
      assert.ok(Date.now() < deadline, `recovered only ${[...recovered].join(", ")}`);
      for (const { taskId } of await recoverOrphans(storeB, fx.events)) recovered.add(taskId);
    }
    const stage = new SecondOwnerStage();
    const runnerB = new TaskRunner({ store: storeB, events: fx.events, stages: [stage], keepTmp: false, watchdogMs: 20 });
    const outcomesB = new Map(await Promise.all(cases.map(async ({ id, file }) => [id, runnerB.run(await storeB.read(file))] as const)));
    await waitFor("B's long runs under way", () => cases.every(({ id, left }) => (left !== "running" && left !== "canceled") || stage.started.has(id)), 10_000);
    for (const { id, left } of cases) if (left === "canceled") await cancelTask(storeB, fx.events, id, 5_000);
    for (const { id, left } of cases) if (left !== "running") assert.equal((await outcomesB.get(id))?.kind, left);
    const leftByB = new Map(cases.map(({ id, file }) => [id, taskOnDisk(file)]));
    for (const { id, left } of cases) assert.equal(leftByB.get(id)?.status, left, id);

    for (const child of children) child.kill("SIGCONT");
    const outcomesA = await Promise.all(resumed);
    cases.forEach(({ id, file }, i) => {
      assert.deepEqual(outcomesA[i], { kind: "superseded", taskId: id }, `runner A of ${id}`);
      assert.deepEqual(taskOnDisk(file), leftByB.get(id), `${id}: the task file is as B left it`);
    });

    for (const { id, left } of cases) if (left === "running") stage.gates.get(id)?.resolve();
    for (const { id, left } of cases) if (left === "running") assert.equal((await outcomesB.get(id))?.kind, "done");
    for (const { id, left } of cases) {
      const types = eventsOf(fx.workspace, id).map((event) => event.type);
      const finals = types.filter((type) => type === "task.completed" || type === "task.failed");
      assert.deepEqual(finals, left === "done" || left === "running" ? ["task.completed"] : left === "failed" ? ["task.failed"] : [], `${id}: one end, B's`);
      assert.equal(types.filter((type) => type === "task.requeued").length, 1, `${id}: recovered once`);
    }
  });
});
