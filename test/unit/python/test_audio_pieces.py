"""Long media in pieces: audio_pieces.py (decoding as a stream, where cuts fall), log_mel.py (the same
features, a block at a time) and piecewise.py (one transcript from the pieces, with a fake
transcriber named as such). Decoding and cuts run on a real recording of the corpus.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import os
import sys
import unittest
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "core", "app", "engines", "faster_whisper"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "corpus_onsets"))

import audio_pieces  # noqa: E402
import log_mel  # noqa: E402
import piecewise  # noqa: E402
from derive_onsets import find_corpus  # noqa: E402  (shared/corpus above the checkout, or $SOPHIA_CORPUS)

RATE = audio_pieces.SAMPLING_RATE
READING = os.path.join(find_corpus(), "sonnet002.mp3")


class Decoding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from faster_whisper.audio import decode_audio

        cls.whole = decode_audio(READING, sampling_rate=RATE)

    def test_media_within_one_piece_is_the_waveform_faster_whisper_decodes_bit_for_bit(self):
        with audio_pieces.MediaAudio(READING) as media:
            (piece,) = media.pieces(audio_pieces.PIECE_SEC)
        self.assertTrue(piece.last)
        self.assertEqual(piece.start, 0.0)
        self.assertEqual(piece.audio.dtype, np.float32)
        self.assertTrue(np.array_equal(piece.audio, self.whole))

    def test_pieces_are_no_longer_than_asked_and_together_are_the_whole_waveform(self):
        with audio_pieces.MediaAudio(READING) as media:
            pieces = list(media.pieces(12.0))
        self.assertGreaterEqual(len(pieces), 4)
        self.assertEqual([piece.last for piece in pieces], [False] * (len(pieces) - 1) + [True])
        self.assertTrue(all(piece.duration <= 12.0 for piece in pieces))
        self.assertTrue(np.array_equal(np.concatenate([piece.audio for piece in pieces]), self.whole))
        starts = np.cumsum([0] + [piece.audio.shape[0] for piece in pieces[:-1]]) / RATE
        self.assertEqual([piece.start for piece in pieces], list(starts))

    def test_every_cut_falls_where_the_reader_pauses(self):
        with audio_pieces.MediaAudio(READING) as media:
            cuts = [piece.start for piece in media.pieces(12.0)][1:]
        # The reading's own loudness around each cut: 100 ms either side is far below its speech.
        speech_level = np.sqrt(np.mean(np.square(self.whole)))
        for cut in cuts:
            around = self.whole[int((cut - 0.1) * RATE) : int((cut + 0.1) * RATE)]
            self.assertLess(np.sqrt(np.mean(np.square(around))), speech_level / 4, f"cut at {cut:.2f} s is in speech")

    def test_the_length_the_container_declares_is_offered_before_decoding(self):
        with audio_pieces.MediaAudio(READING) as media:
            self.assertAlmostEqual(media.duration_hint(), self.whole.shape[0] / RATE, delta=0.1)

    def test_unreadable_media_says_what_is_wrong_with_which_file(self):
        with self.assertRaisesRegex(audio_pieces.MediaUnreadable, "media /nonexistent.mp3 does not exist"):
            audio_pieces.MediaAudio("/nonexistent.mp3")
        with self.assertRaisesRegex(audio_pieces.MediaUnreadable, "cannot be decoded as audio"):
            audio_pieces.read_whole(__file__)

    def test_the_piece_length_for_tests_comes_from_the_environment_and_is_checked(self):
        self.assertEqual(audio_pieces.configured_piece_sec({}), audio_pieces.PIECE_SEC)
        self.assertEqual(audio_pieces.configured_piece_sec({"SOPHIA_ASR_PIECE_SEC": "15"}), 15.0)
        for bad in ("0", "-3", "ten", "nan"):
            with self.assertRaisesRegex(ValueError, "SOPHIA_ASR_PIECE_SEC"):
                audio_pieces.configured_piece_sec({"SOPHIA_ASR_PIECE_SEC": bad})


class WhereToCut(unittest.TestCase):
    def test_the_longest_silence_wins_and_a_tie_goes_to_the_later(self):
        self.assertEqual(audio_pieces.longest_silence([(100, 200), (380, 400), (500, 900)], 1000), (200, 380))
        self.assertEqual(audio_pieces.longest_silence([(100, 300), (400, 1000)], 1000), (300, 400))
        self.assertEqual(audio_pieces.longest_silence([(100, 900)], 1000), (900, 1000))

    def test_speech_that_fills_the_window_has_no_silence(self):
        self.assertIsNone(audio_pieces.longest_silence([(0, 600), (550, 1000)], 1000))

    def test_without_a_pause_the_cut_is_in_the_quietest_tenth_of_a_second(self):
        window = np.full(RATE, 0.5, dtype=np.float32)
        window[3200:3520] = 0.0  # 20 ms of silence: a stop consonant, not a gap between words
        window[8000:9600] = 0.05
        self.assertEqual(audio_pieces.quietest_stretch(window), 8800)


class Features(unittest.TestCase):
    def test_blockwise_log_mel_equals_faster_whispers_bit_for_bit(self):
        from faster_whisper.audio import decode_audio
        from faster_whisper.feature_extractor import FeatureExtractor

        audio = decode_audio(READING, sampling_rate=RATE)
        theirs, ours = FeatureExtractor(), log_mel.BlockwiseFeatureExtractor()
        for length in (400, RATE * 30, RATE * 30 + 123, audio.shape[0]):
            expected, got = theirs(audio[:length]), ours(audio[:length])
            self.assertEqual(got.shape, expected.shape)
            self.assertTrue(np.array_equal(got, expected), f"{length} samples")
        self.assertTrue(np.array_equal(ours(audio, chunk_length=30), theirs(audio, chunk_length=30)))
        self.assertEqual((ours.n_samples, ours.nb_max_frames), (theirs.n_samples, theirs.nb_max_frames))


class FakeTranscriber:
    """Named as a fake: hears one segment of one word a second into each piece, in the language it is
    given, or "de" (a detection) when given none; its coverage report counts one region of speech."""

    def __init__(self):
        self.languages = []

    def __call__(self, audio, language, on_info, on_progress):
        self.languages.append(language)
        duration = audio.shape[0] / RATE
        info = SimpleNamespace(language=language or "de", language_probability=0.9, duration=duration)
        on_info(info)
        segment = {"start": 1.0, "end": 1.5, "text": "Wort", "words": [{"text": "Wort", "start": 1.0, "end": 1.5, "probability": 0.9}]}
        on_progress(segment)
        report = {
            "speech_sec": 2.0,
            "speech_with_words_sec": 1.5,
            "speech_with_words_pct": 75.0,
            "speech_regions": 1,
            "retried": [{"start": 2.0, "end": 3.0, "words": 1}],
            "uncovered": [{"start": 3.0, "end": 3.5}],
            "word_repairs": {"clamped": 0, "reordered": 1, "dropped_at_end": 0, "widened": 2},
        }
        return info, [segment], report


def pieces(*lengths):
    start, result = 0.0, []
    for index, length in enumerate(lengths):
        result.append(audio_pieces.Piece(start, np.zeros(int(length * RATE), np.float32), last=index == len(lengths) - 1))
        start += length
    return result


def run(media_pieces, hint=None):
    fake, infos, progress, segments = FakeTranscriber(), [], [], []
    result = piecewise.transcribe(media_pieces, hint, fake, lambda info, duration: infos.append((info.language, duration)), progress.append, segments.extend)
    return fake, infos, progress, segments, result


class Piecewise(unittest.TestCase):
    def test_the_language_is_detected_once_and_given_to_every_later_piece(self):
        fake, infos, _, _, (_, language, _) = run(pieces(600, 590, 100), hint=1290.5)
        self.assertEqual(fake.languages, [None, "de", "de"])
        self.assertEqual(language, "de")
        self.assertEqual(infos, [("de", 1290.5)], "one info, with the length the container declares")

    def test_times_are_on_the_media_timeline(self):
        _, _, progress, segments, (duration, _, _) = run(pieces(600, 590, 100))
        self.assertEqual([segment["start"] for segment in segments], [1.0, 601.0, 1191.0])
        self.assertEqual([segment["words"][0]["end"] for segment in segments], [1.5, 601.5, 1191.5])
        self.assertEqual([record["end"] for record in progress], [1.5, 601.5, 1191.5])
        self.assertEqual(duration, 1290.0)

    def test_coverage_reports_are_summed_with_their_spans_on_the_media_timeline(self):
        _, _, _, _, (_, _, report) = run(pieces(600, 590))
        self.assertEqual(report["speech_sec"], 4.0)
        self.assertEqual(report["speech_with_words_sec"], 3.0)
        self.assertEqual(report["speech_with_words_pct"], 75.0)
        self.assertEqual(report["speech_regions"], 2)
        self.assertEqual(report["retried"], [{"start": 2.0, "end": 3.0, "words": 1}, {"start": 602.0, "end": 603.0, "words": 1}])
        self.assertEqual(report["uncovered"], [{"start": 3.0, "end": 3.5}, {"start": 603.0, "end": 603.5}])
        self.assertEqual(report["word_repairs"], {"clamped": 0, "reordered": 2, "dropped_at_end": 0, "widened": 4})
        single = FakeTranscriber()(np.zeros(RATE), None, lambda info: None, lambda record: None)[2]
        self.assertEqual(set(report), set(single), "every field of a piece's report is in the merged one")

    def test_one_piece_goes_through_unchanged(self):
        fake, infos, _, segments, (duration, language, report) = run(pieces(42.5), hint=40.0)
        self.assertEqual(fake.languages, [None])
        self.assertEqual(infos, [("de", 42.5)], "a single piece's info has its exact length, not the declared one")
        self.assertEqual(segments[0]["start"], 1.0)
        self.assertEqual((duration, language, report["speech_with_words_pct"]), (42.5, "de", 75.0))


if __name__ == "__main__":
    unittest.main()
