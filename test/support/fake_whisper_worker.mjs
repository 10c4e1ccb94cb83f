// A stand-in for worker.py that speaks the same protocol with scripted misbehaviour, so the runner
// side (worker_process.ts, the pool) is tested without Python or a model. Run it with node.
// A load request is answered with its model line alone. For the others the request's model name
// picks the script:
//   "ok"        model, info, progress twice, two segments, done with a coverage report
//   "error"     an error reply (media_unreadable) with a traceback
//   "crash"     one segment, a last word on stderr, then exit code 7 mid-request
//   "malformed" a stdout line that is not JSON
//   "slow"      a progress line every 100 ms, forever
//   "stubborn"  like slow, and ignores SIGTERM (only SIGKILL ends it)
// FAKE_WORKER_STARTUP=fail: die before `ready` with an import error on stderr.
// FAKE_WORKER_STARTUP=killed: SIGKILL itself before `ready`, as the OOM killer or a user would.
import { createInterface } from "node:readline";
import { setInterval } from "node:timers";

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const loaded = new Set();
const COVERAGE = {
  speech_sec: 2,
  speech_with_words_sec: 2,
  speech_with_words_pct: 100,
  speech_regions: 1,
  retried: [{ start: 1, end: 2, words: 2, reason: "no_words", replaced: 0 }],
  uncovered: [],
  word_repairs: { clamped: 0, reordered: 0, dropped_at_end: 1, widened: 0, early_start: 0 },
};

if (process.env.FAKE_WORKER_STARTUP === "fail") {
  process.stderr.write("Traceback (most recent call last):\nModuleNotFoundError: No module named 'faster_whisper'\n");
  process.exit(1);
}
if (process.env.FAKE_WORKER_STARTUP === "killed") process.kill(process.pid, "SIGKILL");

send({ type: "ready", pid: process.pid, faster_whisper: "fake", ctranslate2: "fake" });

createInterface({ input: process.stdin }).on("line", (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    send({ type: "error", id: null, code: "internal", message: "request line is not JSON", traceback: "" });
    return;
  }
  handle(request);
});

function handle({ type, id, model, media }) {
  const cached = loaded.has(model);
  loaded.add(model);
  if (type === "load") {
    send({ type: "model", id, model, path: `/fake/models/${model}/${process.pid}`, load_sec: cached ? 0 : 0.01, cached });
    return;
  }
  const segment = (start, text) => ({
    type: "segment",
    id,
    start,
    end: start + 1,
    text,
    words: text.split(" ").map((word, i, all) => ({ text: word, start: start + i / all.length, end: start + (i + 1) / all.length, probability: 0.9 })),
  });
  send({ type: "model", id, model, path: `/fake/models/${model}/${process.pid}`, load_sec: cached ? 0 : 0.01, cached });
  switch (model) {
    case "ok":
      send({ type: "info", id, duration: 2, language: "en", language_probability: 0.98 });
      send({ type: "progress", id, position: 1, text: "hello there" });
      send({ type: "progress", id, position: 2, text: "general kenobi" });
      send(segment(0, "hello there"));
      send(segment(1, "general kenobi"));
      send({ type: "done", id, duration: 2, language: "en", coverage: COVERAGE });
      return;
    case "error":
      send({ type: "error", id, code: "media_unreadable", message: `media ${media} cannot be decoded as audio`, traceback: "Traceback (most recent call last):\nav.error.InvalidDataError: fake" });
      return;
    case "crash":
      send({ type: "info", id, duration: 10, language: "en", language_probability: 0.98 });
      send(segment(0, "about to crash"));
      process.stderr.write("fake worker: segmentation fault in the decoder\n");
      process.exit(7);
      return;
    case "malformed":
      process.stdout.write("Downloading model.bin 12%\n");
      return;
    case "stubborn":
      process.on("SIGTERM", () => process.stderr.write("fake worker: ignoring SIGTERM\n"));
    // falls through
    case "slow": {
      send({ type: "info", id, duration: 1000, language: "en", language_probability: 0.98 });
      let at = 0;
      setInterval(() => send({ type: "progress", id, position: at++, text: "still talking" }), 100);
      return;
    }
    default:
      send({ type: "error", id, code: "model_unavailable", message: `model "${model}" is not available offline`, traceback: "" });
  }
}
