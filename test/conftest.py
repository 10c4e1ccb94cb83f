"""Where the engine's Python tests find what they import: the worker's modules, the test support
scripts and the corpus onsets. pytest loads this file itself; test/support/python_tests.ts loads it
before unittest discovers the tests, so no test file repeats a sys.path preamble."""

import os
import sys

TEST = os.path.dirname(os.path.abspath(__file__))
for folder in (
    os.path.join(TEST, "..", "core", "app", "engines", "faster_whisper"),
    os.path.join(TEST, "support"),
    os.path.join(TEST, "fixtures", "corpus_onsets"),
):
    if os.path.normpath(folder) not in sys.path:
        sys.path.insert(0, os.path.normpath(folder))
