/** asr's progress line: steps for the slow start, then a position that moves between Whisper's windows, with the time left. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { AsrSteps } from "../../core/app/stages/asr_progress.js";

describe("asr progress", { timeout: 60_000 }, () => {
  let reports: [number, string][];
  let steps: AsrSteps;

  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 0 });
    reports = [];
    steps = new AsrSteps((fraction, msg) => reports.push([fraction, msg]), "transcribing", "talk.mp3", "base");
  });
  afterEach(() => {
    steps.stop();
    mock.timers.reset();
  });

  test("the start is reported step by step before any position", () => {
    steps.starting("faster_whisper");
    steps.loading();
    steps.modelReady({ model: "base", path: "/m", load_sec: 2.04, cached: false });
    steps.audioRead(96, "en");
    assert.deepEqual(reports, [
      [0, "starting the faster_whisper engine"],
      [0, "reading talk.mp3 and loading model base"],
      [0, "model base loaded in 2.0 s; detecting the language"],
      [0, "transcribing 0:01:36 of en"],
    ]);
  });

  test("a window's segments count as one position; between windows the position moves at the pace so far, never past the window", () => {
    steps.audioRead(96, "en");
    mock.timers.tick(10_000); // the first 30 s window takes 10 s: a pace of 3 media seconds per second
    steps.position(12, 96, "first");
    steps.position(29, 96, "last of the window");
    mock.timers.tick(100);
    const first = reports.at(-1) as [number, string];
    assert.equal(first[0], 29 / 96);
    assert.match(first[1], /^0:00:29 \/ 0:01:36, 0:00:23 left last of the window$/);
    for (let second = 0; second < 5; second++) mock.timers.tick(1_000);
    const moved = reports.slice(2).map(([fraction]) => fraction);
    assert.ok(moved.length >= 4 && moved.every((fraction, i) => i === 0 || fraction > (moved[i - 1] as number)), JSON.stringify(moved));
    mock.timers.tick(60_000); // a window that takes far longer than the pace says: the estimate waits at its end
    assert.equal((reports.at(-1) as [number, string])[0], 59 / 96);
    steps.position(50, 96, "a window that ended early"); // behind the estimate: the line does not go back
    mock.timers.tick(100);
    assert.match((reports.at(-1) as [number, string])[1], /^0:00:59 \/ 0:01:36/);
    steps.stop();
    const count = reports.length;
    mock.timers.tick(10_000);
    assert.equal(reports.length, count);
  });

  test("with lanes, a lane's text far from the position transcribed so far carries its own time", () => {
    steps.audioRead(120, "en");
    mock.timers.tick(10_000);
    steps.position(39, 120, "despite of wrinkles", 100); // 39 s transcribed in all; the text is said at 1:40
    mock.timers.tick(100);
    assert.match((reports.at(-1) as [number, string])[1], /^0:00:39 \/ 0:02:00, .* left \(at 0:01:40\) despite of wrinkles$/);
    steps.position(70, 120, "within the window", 55);
    mock.timers.tick(100);
    assert.match((reports.at(-1) as [number, string])[1], /left within the window$/);
  });
});
