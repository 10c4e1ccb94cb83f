/**
 * The worker's speech coverage logic (core/app/engines/faster_whisper/speech_coverage.py) is Python:
 * its unit tests are Python's unittest, run here with the engine's interpreter so they are part of
 * the suite. Pure logic: no model, no audio.
 */
import { test } from "node:test";
import { runPythonTests } from "../support/python_tests.js";

test("speech coverage: word-time repair, uncovered speech, decoding a span again and merging it (Python unittest)", { timeout: 120_000 }, () => {
  runPythonTests("test/unit/python");
});
