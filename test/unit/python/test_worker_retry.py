"""transcribe.transcribe_span with a fake model (named as such): how a stretch of uncovered speech is decoded again.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import unittest
from types import SimpleNamespace

import numpy as np

import transcribe
from audio_time import SAMPLING_RATE


class FakeModel:
    """Hears one segment, "cold.", half a second into whatever clip it is given."""

    def __init__(self):
        self.calls = []

    def transcribe(self, clip, **options):
        self.calls.append((len(clip), options))
        word = SimpleNamespace(word=" cold.", start=0.5, end=0.9, probability=0.8)
        return iter([SimpleNamespace(start=0.5, end=0.9, text=" cold.", no_speech_prob=0.02, avg_logprob=-0.3, temperature=0.4, words=[word])]), None


DECODING = {
    "language": None,
    "task": "transcribe",
    "beam_size": 5,
    "temperature": [0.0],
    "initial_prompt": "Shakespeare, sonnets",
    "hotwords": "thou thy",
    "vad_filter": True,
    "condition_on_previous_text": True,
    "hallucination_silence_threshold": None,
    "word_timestamps": True,
}


class TranscribeSpan(unittest.TestCase):
    def test_the_span_is_decoded_alone_without_any_prompt_in_the_detected_language_and_timed_from_the_media_start(self):
        model = FakeModel()
        audio = np.zeros(60 * SAMPLING_RATE, dtype=np.float32)
        segments = transcribe.transcribe_span(model, audio, (51.5, 52.7), 53.0, "en", DECODING)

        (samples, options), = model.calls
        self.assertEqual(samples, round((53.0 - 51.0) * SAMPLING_RATE), "the span plus its margin, cut at the end of the media")
        self.assertEqual(options["language"], "en")
        self.assertIs(options["condition_on_previous_text"], False)
        self.assertIsNone(options["initial_prompt"])
        self.assertIsNone(options["hotwords"])
        self.assertIs(options["vad_filter"], False)
        self.assertEqual(options["task"], "transcribe")
        self.assertEqual([(w["text"], w["start"], w["end"]) for w in segments[0]["words"]], [("cold.", 51.5, 51.9)])
        self.assertEqual((segments[0]["start"], segments[0]["end"]), (51.5, 51.9))
        self.assertIs(segments[0]["fell_back"], True, "decoded above the schedule's first temperature")


if __name__ == "__main__":
    unittest.main()
