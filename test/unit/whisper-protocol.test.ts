/**
 * The runner side of the faster_whisper engine against a scripted fake worker
 * (test/support/fake_whisper_worker.mjs): protocol parsing, crashes, protocol faults, abort, the pool.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { isSophiaError, SophiaError } from "../../core/app/errors.js";
import { FasterWhisperEngine } from "../../core/app/engines/faster_whisper/engine.js";
import { resolveFasterWhisperConfig } from "../../core/app/engines/faster_whisper/options.js";
import { parseWorkerLine, workerErrorCode } from "../../core/app/engines/faster_whisper/protocol.js";
import { WhisperWorker } from "../../core/app/engines/faster_whisper/worker_process.js";
import type { TranscribeControls } from "../../core/app/engines/engine.js";
import type { TranscribeProgress } from "../../core/app/engines/engine.js";
import { TranscriptSchema } from "../../core/app/transcript.js";

const FAKE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "support", "fake_whisper_worker.mjs");
const FAKE_OPTIONS = { python: process.execPath, script: FAKE };

function controls(overrides: Partial<TranscribeControls> = {}): TranscribeControls {
  return { signal: new AbortController().signal, onProgress: () => {}, ...overrides };
}

function request(model: string) {
  return { media: "/media/talk.wav", config: resolveFasterWhisperConfig({ type: "faster_whisper", model }) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

describe("protocol", { timeout: 60_000 }, () => {
  test("accepts every worker message", () => {
    const lines = [
      { type: "ready", pid: 12, faster_whisper: "1.2.1", ctranslate2: "4.8.5" },
      { type: "model", id: "r1", model: "tiny.en", path: "/m", source: "bundled", load_sec: 0.5, cached: false },
      { type: "info", id: "r1", duration: 5.36, language: "en", language_probability: null },
      { type: "segment", id: "r1", start: 0, end: 2.5, text: "Hello.", words: [{ text: "Hello.", start: 0, end: 0.4, probability: 0.93 }] },
      { type: "progress", id: "r1", position: 2.5, text: "Hello." },
      { type: "done", id: "r1", duration: 5.36, language: null },
      {
        type: "done",
        id: "r1",
        duration: 5.36,
        language: "en",
        coverage: {
          speech_sec: 4.1,
          speech_with_words_sec: 2.9,
          speech_with_words_pct: 70.7,
          speech_regions: 2,
          retried: [{ start: 3.1, end: 4.3, words: 0, reason: "no_words", replaced: 0 }],
          uncovered: [{ start: 3.1, end: 4.3 }],
          word_repairs: { clamped: 0, reordered: 1, dropped_at_end: 1, widened: 0, early_start: 1 },
        },
      },
      { type: "align_progress", id: "r2", done: 1, total: 2 },
      { type: "aligned", id: "r2", spans: [[{ start: 1.2, end: 1.5, probability: 0.8 }], null] },
      { type: "error", id: null, code: "internal", message: "request line is not JSON", traceback: "" },
    ];
    for (const line of lines) {
      const parsed = parseWorkerLine(JSON.stringify(line));
      assert.ok(parsed.ok, `${line.type}: ${parsed.ok ? "" : parsed.problem}`);
      assert.deepEqual(parsed.message, line);
    }
  });

  test("rejects lines that are not protocol, saying why", () => {
    const bad = [
      "Downloading model.bin 12%",
      JSON.stringify({ type: "progress", id: "r1" }),
      JSON.stringify({ type: "segment", id: "r1", start: "0.0", end: 1, text: "", words: [] }), // numbers as strings
      JSON.stringify({ type: "segment", id: "r1", start: -1, end: 1, text: "", words: [] }),
      JSON.stringify({ type: "segment", id: "r1", start: 0, end: 1, text: "a", words: [{ text: "a", start: 0, end: 1, probability: 1.5 }] }),
      JSON.stringify({ type: "model", id: "r1", model: "tiny.en", path: "/m", load_sec: 0 }), // no cached
      JSON.stringify({ type: "done", id: "r1", duration: 1, language: "en", coverage: { speech_sec: 1 } }), // a partial coverage report
    ];
    for (const line of bad) {
      const parsed = parseWorkerLine(line);
      assert.equal(parsed.ok, false, line);
      assert.ok(!parsed.ok && parsed.problem.length > 0);
    }
  });

  test("maps worker error codes, unknown ones to internal", () => {
    assert.equal(workerErrorCode("model_unavailable"), "model_unavailable");
    assert.equal(workerErrorCode("media_unreadable"), "media_unreadable");
    assert.equal(workerErrorCode("cuda_oom"), "internal");
  });
});

describe("worker process", { timeout: 60_000 }, () => {
  test("collects segments into a transcript with its coverage report, with progress and each step before it", async () => {
    const worker = await WhisperWorker.start(FAKE_OPTIONS);
    const progress: TranscribeProgress[] = [];
    const steps: string[] = [];
    const transcript = await worker.transcribe(
      request("ok"),
      controls({
        onAccepted: () => steps.push("accepted"),
        onModel: () => steps.push("model"),
        onAudio: ({ duration_sec }) => steps.push(`audio ${duration_sec}`),
        onProgress: (p) => (progress.push(p), steps.push("progress")),
      }),
    );
    assert.deepEqual(steps, ["accepted", "model", "audio 2", "progress", "progress"]);
    TranscriptSchema.parse(transcript);
    assert.equal(transcript.model, "ok");
    assert.equal(transcript.media, "/media/talk.wav");
    assert.deepEqual(
      transcript.segments.map((s) => s.text),
      ["hello there", "general kenobi"],
    );
    assert.deepEqual(transcript.coverage?.retried, [{ start: 1, end: 2, words: 2, reason: "no_words", replaced: 0 }]);
    assert.deepEqual(
      progress.map((p) => [p.position_sec, p.duration_sec]),
      [
        [1, 2],
        [2, 2],
      ],
    );
    assert.equal(worker.alive, true);
    await worker.close();
    await worker.close(); // idempotent
    assert.equal(worker.alive, false);
  });

  test("a worker error reply rejects with its code and traceback, and the worker stays usable", async () => {
    const worker = await WhisperWorker.start(FAKE_OPTIONS);
    const error = await rejection(worker.transcribe(request("error"), controls()));
    assert.ok(isSophiaError(error, "media_unreadable"), String(error));
    assert.match(String(error.details.traceback), /InvalidDataError/);
    assert.equal(worker.alive, true);
    const models: boolean[] = [];
    await worker.transcribe(request("ok"), controls({ onModel: (m) => models.push(m.cached) }));
    await worker.transcribe(request("ok"), controls({ onModel: (m) => models.push(m.cached) }));
    assert.deepEqual(models, [false, true]);
    await worker.close();
  });

  test("a crash mid-request rejects with worker_crashed, the exit code and the stderr tail", async () => {
    const worker = await WhisperWorker.start(FAKE_OPTIONS);
    const error = await rejection(worker.transcribe(request("crash"), controls()));
    assert.ok(isSophiaError(error, "worker_crashed"), String(error));
    assert.match(error.message, /exit code 7/);
    assert.match(error.message, /segmentation fault in the decoder/);
    assert.equal(error.details.exit_code, 7);
    assert.match(String(error.details.stderr_tail), /segmentation fault/);
    assert.equal(worker.alive, false);
    await assert.rejects(worker.transcribe(request("ok"), controls()), (e) => isSophiaError(e, "worker_crashed"));
  });

  test("a line that is not protocol is a worker fault: the request fails and the worker is killed", async () => {
    const worker = await WhisperWorker.start(FAKE_OPTIONS);
    const error = await rejection(worker.transcribe(request("malformed"), controls()));
    assert.ok(isSophiaError(error, "internal"), String(error));
    assert.match(error.message, /not protocol/);
    assert.match(error.message, /Downloading model\.bin/);
    assert.equal(worker.alive, false);
    // Killed in the background: wait for it to be gone (a hang fails at 10 s) rather than a fixed sleep.
    for (let waited = 0; waited < 10_000 && isRunning(worker.pid); waited += 50) await sleep(50);
    assert.equal(isRunning(worker.pid), false);
  });

  for (const model of ["slow", "stubborn"]) {
    test(`abort kills a ${model} worker promptly and rejects with the abort reason`, async () => {
      const worker = await WhisperWorker.start(FAKE_OPTIONS);
      const controller = new AbortController();
      let segments = 0;
      const running = worker.transcribe(request(model), controls({ signal: controller.signal, onProgress: () => segments++ }));
      while (segments < 2) await sleep(20);
      const reason = new SophiaError("canceled", "canceled by the user");
      const abortedAt = Date.now();
      controller.abort(reason);
      const error = await rejection(running);
      assert.equal(error, reason);
      // The kill takes at most two 300 ms graces; 10 s is 10× the second the spec promises, so load never trips it.
      assert.ok(Date.now() - abortedAt < 10_000, `took ${Date.now() - abortedAt} ms`);
      assert.equal(isRunning(worker.pid), false);
      assert.equal(worker.alive, false);
    });
  }

  test("an already aborted signal rejects without touching the worker", async () => {
    const worker = await WhisperWorker.start(FAKE_OPTIONS);
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await assert.rejects(worker.transcribe(request("ok"), controls({ signal: controller.signal })), /too late/);
    assert.equal(worker.alive, true);
    await worker.close();
  });

  test("a missing interpreter is engine_unavailable and names the python option and setup-python", async () => {
    const error = await rejection(WhisperWorker.start({ python: "/nonexistent/.venv/bin/python", script: FAKE }));
    assert.ok(isSophiaError(error, "engine_unavailable"), String(error));
    assert.match(error.message, /\/nonexistent\/\.venv\/bin\/python/);
    assert.match(error.message, /`python` option/);
    assert.match(error.message, /sophia-cli setup-python <venv>/);
  });

  test("a worker that dies before ready is engine_unavailable with its stderr", async () => {
    const error = await rejection(WhisperWorker.start({ ...FAKE_OPTIONS, env: { FAKE_WORKER_STARTUP: "fail" } }));
    assert.ok(isSophiaError(error, "engine_unavailable"), String(error));
    assert.match(error.message, /No module named 'faster_whisper'/);
    assert.match(error.message, /sophia-cli setup-python <venv>/);
  });

  test("a worker killed during start-up is engine_unavailable that names the signal, not the setup", async () => {
    const error = await rejection(WhisperWorker.start({ ...FAKE_OPTIONS, env: { FAKE_WORKER_STARTUP: "killed" } }));
    assert.ok(isSophiaError(error, "engine_unavailable"), String(error));
    assert.match(error.message, /killed by SIGKILL/);
    assert.doesNotMatch(error.message, /setup-python/);
  });
});

describe("engine pool", { timeout: 60_000 }, () => {
  const pidOf = (model: { path: string }) => Number(model.path.split("/").pop());

  test("reuses an idle worker, and replaces a dead one", async () => {
    const engine = new FasterWhisperEngine({ ...FAKE_OPTIONS, maxWorkers: 1 });
    try {
      const pids: number[] = [];
      const onModel = (m: { path: string }) => pids.push(pidOf(m));
      await engine.transcribe(request("ok"), controls({ onModel }));
      await engine.transcribe(request("ok"), controls({ onModel }));
      assert.equal(pids[0], pids[1], "the second request reused the worker");

      await assert.rejects(engine.transcribe(request("crash"), controls({ onModel })), (e) => isSophiaError(e, "worker_crashed"));
      assert.equal(engine.size, 0);
      const transcript = await engine.transcribe(request("ok"), controls({ onModel }));
      assert.equal(transcript.segments.length, 2);
      assert.notEqual(pids[3], pids[2], "a fresh worker served the request after the crash");
      assert.equal(engine.size, 1);
    } finally {
      await engine.close();
    }
  });

  test("runs up to maxWorkers requests at once; the rest wait, and a waiting request can be aborted", async () => {
    const engine = new FasterWhisperEngine({ ...FAKE_OPTIONS, maxWorkers: 2 });
    try {
      const first = new AbortController();
      const second = new AbortController();
      const third = new AbortController();
      const running = [first, second].map((c) => engine.transcribe(request("slow"), controls({ signal: c.signal })));
      const queued = engine.transcribe(request("ok"), controls({ signal: third.signal }));
      while (engine.size < 2) await sleep(20);
      await sleep(200);
      assert.equal(engine.size, 2, "no third worker beyond maxWorkers");

      third.abort(new Error("gave up waiting"));
      await assert.rejects(queued, /gave up waiting/);

      const fourth = engine.transcribe(request("ok"), controls());
      first.abort(new Error("stop 1"));
      await assert.rejects(running[0] as Promise<unknown>, /stop 1/);
      assert.equal((await fourth).segments.length, 2, "the waiting request got the freed slot");
      second.abort(new Error("stop 2"));
      await assert.rejects(running[1] as Promise<unknown>, /stop 2/);
    } finally {
      await engine.close();
    }
  });

  test("a worker killed by an abort is replaced at once by one that loads its model: the next request finds it loaded", async () => {
    for (const replaceCanceled of [true, false]) {
      const engine = new FasterWhisperEngine({ ...FAKE_OPTIONS, maxWorkers: 1, replaceCanceled });
      try {
        const models: { path: string; cached: boolean }[] = [];
        const canceled = new AbortController();
        const first = engine.transcribe(request("slow"), controls({ signal: canceled.signal, onModel: (m) => models.push(m) }));
        while (models.length === 0) await sleep(20);
        canceled.abort(new Error("canceled"));
        await assert.rejects(first, /canceled/);

        const next = new AbortController();
        const second = engine.transcribe(request("slow"), controls({ signal: next.signal, onModel: (m) => models.push(m) }));
        while (models.length === 1) await sleep(20);
        next.abort(new Error("done looking"));
        await assert.rejects(second, /done looking/);
        const [before, after] = models as [{ path: string; cached: boolean }, { path: string; cached: boolean }];
        assert.notEqual(pidOf(after), pidOf(before), "a new worker, since the first was killed");
        assert.equal(after.cached, replaceCanceled, replaceCanceled ? "the replacement had loaded the model before the request came" : "without replacement the next request loads the model");
        assert.equal(isRunning(pidOf(before)), false);
      } finally {
        await engine.close();
      }
    }
  });

  test("close kills a replacement that is still starting", async () => {
    const engine = new FasterWhisperEngine({ ...FAKE_OPTIONS, maxWorkers: 1 });
    const canceled = new AbortController();
    const first = engine.transcribe(request("stubborn"), controls({ signal: canceled.signal }));
    while (engine.size === 0) await sleep(20);
    canceled.abort(new Error("canceled"));
    await assert.rejects(first, /canceled/);
    await engine.close();
    assert.equal(engine.size, 0);
    const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" }).split("\n");
    assert.deepEqual(children.filter((line) => line.includes("fake_whisper_worker")), [], "no worker process left running");
  });

  test("close ends every worker and refuses new requests", async () => {
    const engine = new FasterWhisperEngine({ ...FAKE_OPTIONS, maxWorkers: 2 });
    const pids: number[] = [];
    await engine.transcribe(request("ok"), controls({ onModel: (m) => pids.push(pidOf(m)) }));
    await engine.close();
    await engine.close();
    assert.equal(isRunning(pids[0] as number), false);
    await assert.rejects(engine.transcribe(request("ok"), controls()), (e) => isSophiaError(e, "interrupted"));
  });
});
