/** Stage progress on its way to the event stream: throttled, never backwards, and never losing the last word. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { ProgressThrottle } from "../../core/app/runner/progress_throttle.js";

describe("progress throttle", { timeout: 60_000 }, () => {
  let sent: [number, string][];
  let throttle: ProgressThrottle;

  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    sent = [];
    throttle = new ProgressThrottle((fraction, msg) => sent.push([fraction, msg]), 500);
  });
  afterEach(() => mock.timers.reset());

  test("the first report goes at once; reports within the interval collapse into the latest, delivered when it ends", () => {
    throttle.report(0, "starting the engine");
    throttle.report(0, "reading the audio and loading the model");
    throttle.report(0, "model loaded; reading the audio");
    assert.deepEqual(sent, [[0, "starting the engine"]]);
    mock.timers.tick(500);
    assert.deepEqual(sent, [
      [0, "starting the engine"],
      [0, "model loaded; reading the audio"],
    ]);
  });

  test("progress never goes backwards, and a report that changes nothing is not sent", () => {
    throttle.report(0.5, "half");
    mock.timers.tick(600);
    throttle.report(0.4, "late segment");
    mock.timers.tick(600);
    throttle.report(0.5, "late segment");
    mock.timers.tick(600);
    assert.deepEqual(sent, [
      [0.5, "half"],
      [0.5, "late segment"],
    ]);
  });

  test("the finish goes at once, and nothing is sent after close", () => {
    throttle.report(0.1, "a");
    throttle.report(0.2, "b");
    throttle.report(1, "done");
    assert.deepEqual(sent.map(([fraction]) => fraction), [0.1, 1]);
    throttle.report(1, "again");
    throttle.close();
    mock.timers.tick(1000);
    assert.deepEqual(sent.map(([fraction]) => fraction), [0.1, 1]);
  });
});
