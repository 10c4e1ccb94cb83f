/**
 * Work off the main thread: pure jobs in a worker thread (result, progress, errors with their code,
 * abort that ends a busy thread at once), and run leases that stay fresh while the main thread is
 * blocked.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import lockfile from "proper-lockfile";
import { isSophiaError } from "../../core/app/errors.js";
import { leaseKeeper } from "../../core/app/task/store/lease_keeper.js";
import { jobOf, offThreadJob, runOffThread } from "../../core/app/threads/off_thread.js";
import type * as FakeJobs from "../support/fake_jobs.js";

const JOBS = new URL("../support/fake_jobs.js", import.meta.url);

describe("runOffThread", { timeout: 60_000 }, () => {
  test("a job named by its module's export is checked by the compiler: input and result come from the function", async () => {
    const sum = jobOf<typeof FakeJobs>()(JOBS, "sumJob");
    const result: { sum: number } = await runOffThread(sum, { numbers: [4, 5] });
    assert.deepEqual(result, { sum: 9 });
    // @ts-expect-error a name the module does not export does not compile (npm run typecheck fails if it did)
    assert.equal(jobOf<typeof FakeJobs>()(JOBS, "noSuchJob").name, "noSuchJob");
  });

  test("runs a job of a module in a worker thread and resolves with its result, passing its progress on", async () => {
    const progress: string[] = [];
    const result = await runOffThread(offThreadJob<{ numbers: number[] }, { sum: number }>(JOBS, "sumJob"), { numbers: [1, 2, 3] }, { onProgress: (fraction, msg) => progress.push(`${fraction} ${msg}`) });
    assert.deepEqual(result, { sum: 6 });
    assert.deepEqual(progress, ["0.5 half way"]);
  });

  test("a SophiaError thrown by the job arrives with its code and message", async () => {
    await assert.rejects(runOffThread(offThreadJob<{ what: string }, never>(JOBS, "refusingJob"), { what: "two words" }), (error) => {
      assert.ok(isSophiaError(error, "script_mismatch"));
      assert.equal(error.message, "the script does not fit: two words");
      assert.deepEqual(error.details, { what: "two words" });
      return true;
    });
  });

  test("abort ends a job that never yields, at once, with the abort reason", async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const running = runOffThread(offThreadJob<null, never>(JOBS, "spinningJob"), null, {
      signal: controller.signal,
      onProgress: () => {
        abortedAt = performance.now();
        controller.abort(new Error("canceled by the test"));
      },
    });
    await assert.rejects(running, /canceled by the test/);
    assert.ok(abortedAt > 0, "the job was running when aborted");
    // 10× the second the abort is promised in, so a loaded machine never trips it; speed is bench/'s.
    assert.ok(performance.now() - abortedAt < 10_000, `took ${Math.round(performance.now() - abortedAt)} ms`);
  });
});

describe("lease keeper", { timeout: 60_000 }, () => {
  test("keeps a lease fresh while the main thread is blocked for longer than its stale time", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sophia-lease-"));
    try {
      const target = path.join(dir, "task.json.run");
      const lockfilePath = path.join(dir, "task.json.lease");
      let lost: Error | null = null;
      const lease = await leaseKeeper.acquire(target, lockfilePath, { staleMs: 2_000, refreshMs: 1_000 }, (error) => (lost = error));
      assert.ok(lease);
      // Blocks this thread (no event loop turns at all) for 1.5 × the stale time.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000);
      assert.equal(await lockfile.check(target, { lockfilePath, realpath: false, stale: 2_000 }), true, "the lease is still fresh");
      assert.equal(lost, null);
      await lease.release();
      assert.equal(await lockfile.check(target, { lockfilePath, realpath: false, stale: 2_000 }), false, "released");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a lease someone else holds is not taken; an abandoned lease is left in place to go stale", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sophia-lease-"));
    try {
      const target = path.join(dir, "task.json.run");
      const lockfilePath = path.join(dir, "task.json.lease");
      mkdirSync(lockfilePath);
      assert.equal(await leaseKeeper.acquire(target, lockfilePath, { staleMs: 10_000, refreshMs: 2_000 }, () => undefined), null);
      rmSync(lockfilePath, { recursive: true });
      const lease = await leaseKeeper.acquire(target, lockfilePath, { staleMs: 10_000, refreshMs: 2_000 }, () => undefined);
      assert.ok(lease);
      await lease.abandon();
      assert.equal(await lockfile.check(target, { lockfilePath, realpath: false, stale: 10_000 }), true, "the directory stays");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
