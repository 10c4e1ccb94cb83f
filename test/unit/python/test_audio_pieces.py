"""Long media in pieces: audio_pieces.py (decoding as a stream, where cuts fall), log_mel.py (the same
features, a block at a time), piecewise.py (one transcript from the pieces, with a fake
transcriber named as such) and sample_reader.py (the samples read forward for alignment, holding only
what is not forgotten). Decoding and cuts run on a real recording of the corpus.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import json
import os
import tempfile
import unittest
import wave
from types import SimpleNamespace

import numpy as np

import audio_pieces
import log_mel
import piecewise
import sample_reader
import transcribe
import vad_batches
from derive_onsets import find_corpus  # (shared/corpus above the checkout, or $SOPHIA_CORPUS)

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

    def test_pieces_are_no_longer_than_asked_and_their_own_parts_together_are_the_whole_waveform(self):
        with audio_pieces.MediaAudio(READING) as media:
            pieces = list(media.pieces(12.0))
        self.assertGreaterEqual(len(pieces), 4)
        self.assertEqual([piece.last for piece in pieces], [False] * (len(pieces) - 1) + [True])
        self.assertTrue(all(piece.duration <= 12.0 for piece in pieces))
        for piece in pieces:
            first = round(piece.start * RATE)
            self.assertTrue(np.array_equal(piece.audio, self.whole[first : first + piece.audio.shape[0]]), "a piece is the media's own samples")
            self.assertTrue(piece.start <= piece.owned[0] < piece.owned[1] <= piece.start + piece.duration)
        self.assertEqual(pieces[0].owned[0], 0.0)
        self.assertEqual([piece.owned[1] for piece in pieces[:-1]], [piece.owned[0] for piece in pieces[1:]], "each piece owns from where the one before stops")
        self.assertEqual(pieces[-1].owned[1], self.whole.shape[0] / RATE)
        self.assertTrue(all(piece.owned[0] - piece.start >= 2.9 for piece in pieces[1:]), "audio from before the cut, for context")

    def test_every_cut_falls_where_the_reader_pauses(self):
        with audio_pieces.MediaAudio(READING) as media:
            cuts = [piece.owned[0] for piece in media.pieces(20.0)][1:]
        self.assertGreaterEqual(len(cuts), 4)
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
            next(audio_pieces.MediaAudio(__file__).pieces())

    def test_the_piece_length_for_tests_comes_from_the_environment_and_is_checked(self):
        self.assertEqual(audio_pieces.configured_piece_sec({}), audio_pieces.PIECE_SEC)
        self.assertEqual(audio_pieces.configured_piece_sec({"SOPHIA_ASR_PIECE_SEC": "15"}), 15.0)
        for bad in ("0", "-3", "ten", "nan"):
            with self.assertRaisesRegex(ValueError, "SOPHIA_ASR_PIECE_SEC"):
                audio_pieces.configured_piece_sec({"SOPHIA_ASR_PIECE_SEC": bad})


class SampleReading(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from faster_whisper.audio import decode_audio

        cls.whole = decode_audio(READING, sampling_rate=RATE)
        with audio_pieces.MediaAudio(READING) as media:
            cls.block = max(block.shape[0] for block in media.blocks())

    def test_stretches_read_forward_are_the_waveform_and_only_what_is_not_forgotten_is_held(self):
        with sample_reader.SampleReader(READING) as reader:
            for lo in range(0, self.whole.shape[0], 3 * RATE):
                reader.forget(lo)
                hi = lo + 5 * RATE
                self.assertTrue(np.array_equal(reader.samples(lo, hi), self.whole[lo:hi]), f"samples {lo} to {hi}")
            self.assertLessEqual(reader.peak_held, 2 * self.block, "the blocks a 5 s stretch lies in, no more")
            self.assertLess(2 * self.block, self.whole.shape[0], "the reading is longer than what is held")

    def test_a_stretch_before_what_was_forgotten_is_read_again_from_the_start(self):
        with sample_reader.SampleReader(READING) as reader:
            reader.forget(40 * RATE)
            self.assertTrue(np.array_equal(reader.samples(40 * RATE, 41 * RATE), self.whole[40 * RATE : 41 * RATE]))
            self.assertTrue(np.array_equal(reader.samples(2 * RATE, 3 * RATE), self.whole[2 * RATE : 3 * RATE]))

    def test_the_end_of_the_media_clamps_times_and_shortens_stretches(self):
        duration = self.whole.shape[0] / RATE
        with sample_reader.SampleReader(READING) as reader:
            self.assertEqual(reader.clamp(10.0), 10.0)
            self.assertEqual(reader.clamp(duration + 5.0), duration)
            self.assertEqual(reader.clamp(float("inf")), duration)
            end = self.whole.shape[0]
            self.assertTrue(np.array_equal(reader.samples(end - 10, end + 10), self.whole[end - 10 :]))
            self.assertEqual(reader.samples(end + 10, end + 20).shape[0], 0)

    def test_the_lookahead_reads_on_its_own_and_closes_with_its_reader(self):
        with sample_reader.SampleReader(READING) as reader:
            ahead = reader.lookahead()
            self.assertIs(reader.lookahead(), ahead)
            ahead.forget(45 * RATE)
            self.assertTrue(np.array_equal(ahead.samples(45 * RATE, 50 * RATE), self.whole[45 * RATE : 50 * RATE]))
            self.assertTrue(np.array_equal(reader.samples(0, RATE), self.whole[:RATE]))
            self.assertLessEqual(reader.read_to, self.block, "the first reader is still at its first block")
        self.assertIsNone(ahead.source)

    def test_media_without_samples_or_not_media_at_all_fails_at_once_naming_the_file(self):
        with tempfile.TemporaryDirectory() as folder:
            empty = os.path.join(folder, "empty.wav")
            with wave.open(empty, "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
            with self.assertRaisesRegex(audio_pieces.MediaUnreadable, f"media {empty} contains no audio samples"):
                sample_reader.SampleReader(empty)
        with self.assertRaisesRegex(audio_pieces.MediaUnreadable, "cannot be decoded as audio"):
            sample_reader.SampleReader(__file__)
        with self.assertRaisesRegex(audio_pieces.MediaUnreadable, "media /nonexistent.mp3 does not exist"):
            sample_reader.SampleReader("/nonexistent.mp3")


class VadInSmallBatches(unittest.TestCase):
    def test_the_speech_probabilities_are_faster_whispers_bit_for_bit(self):
        from faster_whisper import vad
        from faster_whisper.audio import decode_audio

        reading = decode_audio(READING, sampling_rate=RATE)
        library = vad.SileroVADModel(os.path.join(vad.get_assets_path(), "silero_vad_v6.onnx"))
        ours = vad_batches.SmallBatchVad(library)
        for length in (reading.shape[0], 300 * 512, 512):  # two batches and a part; one batch; one row
            padded = np.pad(reading[:length], (0, 512 - length % 512))
            expected = library(padded.copy())
            self.assertTrue(np.array_equal(ours(padded.copy()), expected), f"{length} samples")
        self.assertGreater(reading.shape[0] // 512, vad_batches.BATCH_ROWS, "the reading takes more than one batch")

    def test_installed_it_is_what_get_speech_timestamps_uses(self):
        from faster_whisper import vad

        real = vad.get_vad_model
        try:
            vad_batches.install()
            vad_batches.install()
            self.assertIsInstance(vad.get_vad_model(), vad_batches.SmallBatchVad)
        finally:
            vad.get_vad_model = real


class WhereToCut(unittest.TestCase):
    def test_the_longest_silence_wins_and_a_tie_goes_to_the_later(self):
        self.assertEqual(audio_pieces.longest_silence([(100, 200), (380, 400), (500, 900)], 1000), (200, 380))
        self.assertEqual(audio_pieces.longest_silence([(100, 300), (400, 1000)], 1000), (300, 400))
        self.assertEqual(audio_pieces.longest_silence([(100, 900)], 1000), (900, 1000))

    def test_speech_that_fills_the_window_has_no_silence(self):
        self.assertIsNone(audio_pieces.longest_silence([(0, 600), (550, 1000)], 1000))

    def test_without_a_pause_the_cut_is_in_the_quietest_fifth_of_a_second(self):
        window = np.full(RATE, 0.5, dtype=np.float32)
        window[3200:3520] = 0.0  # 20 ms of silence: a stop consonant, not a gap between words
        window[8000:11200] = 0.05
        self.assertEqual(audio_pieces.quietest_stretch(window), 9600)


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


class FakeModel:
    """Named as a fake: the coverage step's retries hear nothing."""

    def transcribe(self, audio, **options):
        return iter([]), None


class FakeTranscriber:
    """Named as a fake: hears the media's words (media-time dicts) that lie in each piece's audio,
    timed from the piece's start, in the language it is given, or "de" (a detection) when given
    none; its coverage report counts one region of speech per piece."""

    def __init__(self, media_pieces, media_words):
        self.pieces, self.media_words = iter(media_pieces), media_words
        self.calls = []

    def __call__(self, audio, language, owned, on_info, on_progress):
        piece = next(self.pieces)
        self.calls.append((language, owned))
        info = SimpleNamespace(language=language or "de", language_probability=0.9, duration=audio.shape[0] / RATE)
        on_info(info)
        segments = []
        for word in self.media_words:
            if piece.start <= word["start"] and word["end"] <= piece.start + piece.duration:
                timed = {**word, "start": word["start"] - piece.start, "end": word["end"] - piece.start, "probability": 0.9}
                segments.append({"start": timed["start"], "end": timed["end"], "text": timed["text"], "words": [timed]})
                on_progress(segments[-1])
        # As a transcriber must: only the words its piece owns (no speech regions here: by middles).
        return info, segments if owned is None else piecewise.owned_segments(segments, owned), dict(REPORT)


REPORT = {
    "speech_sec": 2.0,
    "speech_with_words_sec": 1.5,
    "speech_with_words_pct": 75.0,
    "speech_regions": 1,
    "retried": [{"start": 2.0, "end": 3.0, "words": 1}],
    "uncovered": [{"start": 3.0, "end": 3.5}],
    "word_repairs": {"clamped": 0, "reordered": 1, "dropped_at_end": 0, "widened": 2},
}


def pieces(*cuts, end, overlap=5.0):
    """Pieces of a media of end seconds cut at cuts, each reaching overlap seconds past what it owns."""
    bounds = [0.0, *cuts, end]
    result = []
    for index in range(len(bounds) - 1):
        start, stop = max(0.0, bounds[index] - overlap), min(end, bounds[index + 1] + overlap)
        result.append(audio_pieces.Piece(start, np.zeros(round((stop - start) * RATE), np.float32), (bounds[index], bounds[index + 1]), last=index == len(bounds) - 2))
    return result


def word(text, start, end):
    return {"text": text, "start": start, "end": end}


def run(media_pieces, media_words, hint=None):
    fake, infos, progress, segments = FakeTranscriber(media_pieces, media_words), [], [], []
    result = piecewise.transcribe(media_pieces, hint, fake, lambda info, duration: infos.append((info.language, duration)), progress.append, segments.extend)
    return fake, infos, progress, segments, result


WORDS = [word("eins", 1.0, 1.5), word("zwei", 597.0, 597.6), word("drei", 601.0, 601.5), word("vier", 1190.0, 1190.4), word("fünf", 1200.0, 1200.5)]


class Piecewise(unittest.TestCase):
    def test_the_language_is_detected_once_and_given_to_every_later_piece(self):
        fake, infos, _, _, (_, language, _) = run(pieces(599.0, 1195.0, end=1290.0), WORDS, hint=1290.5)
        self.assertEqual([call[0] for call in fake.calls], [None, "de", "de"])
        self.assertEqual(language, "de")
        self.assertEqual(infos, [("de", 1290.5)], "one info, with the length the container declares")

    def test_each_word_is_kept_once_from_the_piece_that_owns_its_middle_and_timed_on_the_media(self):
        fake, _, progress, segments, (duration, _, _) = run(pieces(599.0, 1195.0, end=1290.0), WORDS)
        self.assertEqual([(w["text"], w["start"], w["end"]) for s in segments for w in s["words"]], [(w["text"], w["start"], w["end"]) for w in WORDS])
        self.assertEqual([s["start"] for s in segments], [w["start"] for w in WORDS])
        self.assertIn(597.6, [record["end"] for record in progress])
        self.assertEqual(fake.calls[1][1], (5.0, 601.0), "the second piece checks coverage only in what it owns")
        self.assertEqual(duration, 1290.0)

    def test_coverage_reports_are_summed_with_their_spans_on_the_media_timeline(self):
        _, _, _, _, (_, _, report) = run(pieces(599.0, end=1190.0), WORDS)
        self.assertEqual(report["speech_sec"], 4.0)
        self.assertEqual(report["speech_with_words_sec"], 3.0)
        self.assertEqual(report["speech_with_words_pct"], 75.0)
        self.assertEqual(report["speech_regions"], 2)
        self.assertEqual(report["retried"], [{"start": 2.0, "end": 3.0, "words": 1}, {"start": 596.0, "end": 597.0, "words": 1}])
        self.assertEqual(report["uncovered"], [{"start": 3.0, "end": 3.5}, {"start": 597.0, "end": 597.5}])
        self.assertEqual(report["word_repairs"], {"clamped": 0, "reordered": 2, "dropped_at_end": 0, "widened": 4})
        (only,) = pieces(end=10.0)
        single = FakeTranscriber([only], [])(only.audio, None, None, lambda info: None, lambda record: None)[2]
        self.assertEqual(set(report), set(single), "every field of a piece's report is in the merged one")

    def test_one_piece_goes_through_unchanged(self):
        fake, infos, _, segments, (duration, language, report) = run(pieces(end=42.5), WORDS[:1], hint=40.0)
        self.assertEqual(fake.calls, [(None, None)], "no language given, coverage over all of it")
        self.assertEqual(infos, [("de", 42.5)], "a single piece's info has its exact length, not the declared one")
        self.assertEqual(segments[0]["start"], 1.0)
        self.assertEqual((duration, language, report["speech_with_words_pct"]), (42.5, "de", 75.0))

    def test_a_word_after_the_cut_stretched_back_across_it_by_the_piece_before_is_kept_once(self):
        # Measured on reading_de with base and 20 s pieces: the piece before the cut at 14.18 s heard
        # "das" from the end of the word before it (middle 14.05 s), the piece after from 14.33 s.
        heard = iter([[word("Simplicissimus.", 12.6, 13.66), word("das", 13.66, 14.44)], [word("Das", 5.15, 5.26), word("ist,", 5.26, 5.58)]])

        def fake(audio, language, owned, on_info, on_progress):  # named as such: hears what it is told
            info = SimpleNamespace(language="de", language_probability=0.9, duration=audio.shape[0] / RATE)
            on_info(info)
            words = [{**w, "probability": 0.9} for w in next(heard)]
            return info, [{"start": words[0]["start"], "end": words[-1]["end"], "text": " ".join(w["text"] for w in words), "words": words}], dict(REPORT)

        media = pieces(14.18, end=30.0)
        segments = []
        piecewise.transcribe(media, None, lambda *args: fake(*args), lambda info, duration: None, lambda record: None, segments.extend)
        self.assertEqual([w["text"] for s in segments for w in s["words"]], ["Simplicissimus.", "das", "ist,"])
        self.assertEqual(segments[-1]["text"], "ist,")

    def test_a_word_stretched_across_the_pause_at_a_cut_is_owned_by_the_side_its_speech_is_on(self):
        # Measured with tiny.en, 60 s pieces, cut at 436.02 s in the pause after "thee" (speech 433.2 to
        # 435.6 s, the next line from 437.5 s). By middles the piece before lost its "the" (436.03 s)
        # and the piece after did not own its "thee." (435.62 s): the word was lost.
        regions = [(433.2, 435.6), (437.5, 438.2)]
        before = [{"start": 433.48, "end": 434.24, "text": "thy image", "words": [word("image,", 433.72, 434.24), word("the", 435.16, 436.90)]}]
        after = [{"start": 435.14, "end": 438.2, "text": "thee. 2.", "words": [word("thee.", 435.14, 436.10), word("2.", 437.52, 438.20)]}]
        kept = piecewise.owned_segments(before, (386.60, 436.02), regions) + piecewise.owned_segments(after, (436.02, 482.70), regions)
        self.assertEqual([w["text"] for s in kept for w in s["words"]], ["image,", "the", "2."])
        # Measured at the cut at 53.17 s: the piece after heard the last word before the pause stretched
        # over it to the next speech ('cold."' 52.23 to 53.73 s; speech to 52.5 s, again from 53.67 s).
        regions = [(49.2, 52.5), (53.67, 58.0)]
        after = [{"start": 52.23, "end": 53.97, "text": 'cold." In', "words": [word('cold."', 52.23, 53.73), word("In", 53.73, 53.97)]}]
        self.assertEqual([w["text"] for s in piecewise.owned_segments(after, (53.17, 103.02), regions) for w in s["words"]], ["In"])
        self.assertEqual(piecewise.said_at(word("silence", 40.0, 41.0), regions, [end for _, end in regions]), 40.5, "no speech under it: its middle")

    def test_the_worker_keeps_only_owned_words_before_the_coverage_step_moves_any(self):
        # The same stretch as above, on a pause of the corpus reading: the last word before it heard
        # across it. The speech onset repair (speech_coverage.speech_onsets) moves a word that starts
        # long before the speech it ends in to where that speech starts; the piece after the cut must
        # not own the word before it was moved, or it is sent twice.
        from faster_whisper.audio import decode_audio

        with open(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "corpus_onsets", "sonnet002.json"), encoding="utf-8") as file:
            line = next(line for line in json.load(file)["lines"] if line["onset"] and line.get("silence_before_sec", 0) >= 0.5 and line["onset"] > 10)
        onset, pause = line["onset"], line["silence_before_sec"]
        audio = decode_audio(READING, sampling_rate=RATE)[: int((onset + 1.0) * RATE)]
        cut = onset - pause / 2
        heard = [
            {"start": onset - pause - 0.4, "end": onset + 1.0, "text": "before after", "no_speech_prob": 0.0, "avg_logprob": -0.2, "fell_back": False,
             "words": [{**word("before", onset - pause - 0.4, onset + 0.06), "probability": 0.9}, {**word("after", onset + 0.06, onset + 1.0), "probability": 0.9}]},
        ]
        info = SimpleNamespace(duration=audio.shape[0] / RATE, language="en")
        segments, _ = transcribe.covered(FakeModel(), audio, heard, info, {}, (cut, audio.shape[0] / RATE))
        self.assertEqual([w["text"] for s in segments for w in s["words"]], ["after"])

    def test_speech_regions_are_cut_to_the_part_a_piece_owns(self):
        self.assertEqual(piecewise.clipped([(0.0, 4.0), (4.5, 7.0), (9.0, 12.0), (14.0, 15.0)], (5.0, 10.0)), [(5.0, 7.0), (9.0, 10.0)])


if __name__ == "__main__":
    unittest.main()
