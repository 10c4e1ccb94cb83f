"""The real worker, with the first pass's words said in one stretch taken away, as if Whisper had not
heard them (spec §4.1, "lost speech, made by the test").

Which speech a model loses depends on the CPU's arithmetic (sonnet002's closing line was lost with
the previous text as prompt on one machine and heard on the next), so the coverage test makes the
loss itself and shows the coverage step hearing that speech again with the real model. The worker
itself knows nothing of this: this script wraps it (test/support/unhearing_python starts it in the
worker's place). $UNHEAR is "start-end", in seconds of the audio one transcription is given (the
media's own for media of one piece on one lane).

Usage: python unhearing_worker.py <path of worker.py>
"""

import os
import runpy
import sys

WORKER = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(WORKER))

import speech_coverage  # noqa: E402
import transcribe  # noqa: E402

START, END = (float(value) for value in os.environ["UNHEAR"].split("-"))
heard_first_pass = transcribe.first_pass


def unheard(heard):
    kept = []
    for segment in heard:
        words = [word for word in segment["words"] if not START <= (word["start"] + word["end"]) / 2 < END]
        if words:
            kept.append({**speech_coverage.with_words(segment, words, segment["words"]), "start": words[0]["start"], "end": words[-1]["end"]})
    return kept


def first_pass(*args, **kwargs):
    info, heard = heard_first_pass(*args, **kwargs)
    return info, unheard(heard)


transcribe.first_pass = first_pass
sys.argv = [WORKER]
runpy.run_path(WORKER, run_name="__main__")
