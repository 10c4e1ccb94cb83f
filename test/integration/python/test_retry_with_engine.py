"""The coverage retry with the real engine (tiny.en) on espeak-ng speech: the worker's own functions, no fakes.

Run by test/integration/speech-coverage.test.ts. Whisper stopping after the first of two sentences
is made certain by keeping only the first sentence's words of a real first pass: the coverage check
must then transcribe the second sentence again, and the retry puts that sentence's first word at the
start of its clip, in the silence before the stretch it was asked about.
"""

import tempfile
import unittest

import espeak_audio
import speech_coverage
import decoding
import request_common
import transcribe

SENTENCES = ["The first line is read slowly.", "This is the second line of the test."]
GAP_SEC = 0.8
DECODING = {**decoding.decode_options({key: None for key in decoding.DECODING_OPTIONS}), "language": "en", "task": "transcribe", "beam_size": 5, "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "vad_filter": False, "condition_on_previous_text": False}


def texts(segments):
    return ["".join(ch for ch in word["text"].lower() if ch.isalnum()) for word in speech_coverage.all_words(segments)]


class RetryWithTheEngine(unittest.TestCase):
    def test_a_sentence_heard_again_keeps_its_first_word_and_no_word_is_heard_twice(self):
        from faster_whisper import WhisperModel

        directory, _ = request_common.find_model("tiny.en", {"allow_download": False})
        model = WhisperModel(directory, device="cpu", compute_type="int8", local_files_only=True)
        with tempfile.TemporaryDirectory() as folder:
            audio, ends = espeak_audio.spoken(folder, SENTENCES, GAP_SEC)
        first_end = ends[0]
        info, heard = transcribe.first_pass(model, audio, DECODING, 1, lambda info: None, lambda record: None)
        stopped = [{**segment, "words": [w for w in segment["words"] if w["end"] <= first_end]} for segment in heard]
        stopped = [segment for segment in stopped if segment["words"]]
        first = texts(stopped)
        self.assertEqual(first[:2], ["the", "first"], f"the first pass heard the first line: {first}")

        segments, report = transcribe.covered(model, audio, stopped, info, DECODING)
        words = texts(segments)
        self.assertTrue(report["retried"], "the second line was transcribed again")
        self.assertEqual(words[: len(first)], first, "the first line's words are kept as heard")
        self.assertEqual(words[len(first) : len(first) + 3], ["this", "is", "the"], f"the second line starts with its first word: {words}")
        self.assertEqual(words.count("this"), 1, f"no word heard twice: {words}")


if __name__ == "__main__":
    unittest.main()
