"""lanes.py: a piece shared out among lanes. Where the cuts fall runs on a real recording of the
corpus; how the lanes' transcripts become one uses a fake part transcriber, named as such.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import os
import threading
import unittest
from types import SimpleNamespace

import numpy as np

import lanes
from derive_onsets import find_corpus  # (shared/corpus above the checkout, or $SOPHIA_CORPUS)

RATE = lanes.SAMPLING_RATE
READING = os.path.join(find_corpus(), "sonnet002.mp3")


class Parts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from faster_whisper.audio import decode_audio

        cls.reading = decode_audio(READING, sampling_rate=RATE)

    def test_a_piece_longer_than_a_window_is_cut_in_a_pause_into_one_part_per_lane(self):
        audio = self.reading
        cut = lanes.parts(audio, (0, audio.shape[0]), 2)
        self.assertEqual(len(cut), 2)
        (a0, b0, own0), (a1, b1, own1) = cut
        self.assertEqual((own0[0], own1[1], own0[1]), (0, audio.shape[0], own1[0]), "the parts own the piece between them, end to end")
        self.assertEqual((a0, b1), (0, audio.shape[0]))
        self.assertEqual((b0 - own0[1], own1[0] - a1), (5 * RATE, 5 * RATE), "each part hears 5 s past its cut")
        middle = audio.shape[0] // 2
        self.assertLessEqual(abs(own0[1] - middle), lanes.CUT_SEARCH_SEC * RATE / 2)
        speech_level = np.sqrt(np.mean(np.square(audio)))
        around = audio[own0[1] - RATE // 10 : own0[1] + RATE // 10]
        self.assertLess(np.sqrt(np.mean(np.square(around))), speech_level / 4, f"cut at {own0[1] / RATE:.2f} s is in speech")

    def test_no_part_is_shorter_than_a_window_would_need_and_one_lane_or_one_window_is_not_cut(self):
        audio = self.reading  # 53 s: two windows' worth, so two parts however many lanes
        self.assertEqual(len(lanes.parts(audio, (0, audio.shape[0]), 4)), 2)
        self.assertEqual(lanes.parts(audio, (0, audio.shape[0]), 1), [(0, audio.shape[0], (0, audio.shape[0]))])
        short = audio[: 29 * RATE]
        self.assertEqual(lanes.parts(short, (0, short.shape[0]), 2), [(0, short.shape[0], (0, short.shape[0]))])

    def test_only_the_pieces_own_part_is_shared_out(self):
        audio = np.zeros(100 * RATE, np.float32)
        cut = lanes.parts(audio, (5 * RATE, 95 * RATE), 2)
        self.assertEqual([own for _, _, own in cut], [(5 * RATE, 50 * RATE), (50 * RATE, 95 * RATE)], "silence everywhere: the even split")
        self.assertEqual([(a, b) for a, b, _ in cut], [(0, 55 * RATE), (45 * RATE, 100 * RATE)])

    def test_the_lane_count_comes_from_the_environment_and_is_checked(self):
        self.assertEqual(lanes.configured_lanes({"SOPHIA_ASR_LANES": "3"}), 3)
        self.assertEqual(lanes.configured_lanes({}), len(os.sched_getaffinity(0)))
        for bad in ("0", "two", "-1"):
            with self.assertRaisesRegex(ValueError, "SOPHIA_ASR_LANES"):
                lanes.configured_lanes({"SOPHIA_ASR_LANES": bad})


class CpuLayout(unittest.TestCase):
    OPTIONS = {"cpu_threads": 0, "lanes": 1, "batch_size": 1, "device": "cpu"}

    def layout(self, lanes_env="3", **options):
        import model_cache
        from unittest import mock

        with mock.patch.dict(os.environ, {"SOPHIA_ASR_LANES": lanes_env}):
            return model_cache.cpu_layout({**self.OPTIONS, **options})

    def test_by_default_one_lane_with_every_core_the_runner_gives(self):
        self.assertEqual(self.layout(), (3, 1))
        self.assertEqual(self.layout(cpu_threads=2), (2, 1))

    def test_lanes_0_is_a_lane_per_core_of_one_thread_and_a_count_is_that_many(self):
        self.assertEqual(self.layout(lanes=0), (1, 3))
        self.assertEqual(self.layout(lanes=2), (1, 2))
        self.assertEqual(self.layout(lanes=2, cpu_threads=2), (2, 2))

    def test_batching_or_a_gpu_is_one_lane(self):
        self.assertEqual(self.layout(lanes=0, batch_size=8), (0, 1))
        self.assertEqual(self.layout(lanes=0, device="cuda"), (0, 1))


class FakePartTranscriber:
    """Named as a fake: hears the media's words (piece-time dicts) lying in the audio of each part it
    is given, timed from the part's start; detects "de" when given no language; reports progress at
    each word; its coverage report counts one region of speech per part. Which part it is given it
    tells by the parts the test computed with lanes.parts."""

    def __init__(self, audio, parts, media_words, fail_lane=None):
        self.audio, self.parts, self.media_words, self.fail_lane = audio, parts, media_words, fail_lane
        self.log, self.lock = [], threading.Lock()

    def __call__(self, audio, language, owned, on_info, on_progress):
        offset = (audio.ctypes.data - self.audio.ctypes.data) // self.audio.itemsize  # a part is a view of the piece
        lane = next(k for k, (a, b, _) in enumerate(self.parts) if (a, b - a) == (offset, audio.shape[0]))
        start = self.parts[lane][0] / RATE
        with self.lock:
            self.log.append(("start", lane, language, owned))
        if self.fail_lane == lane:
            raise RuntimeError(f"lane {lane} failed")
        info = SimpleNamespace(language=language or "de", language_probability=0.9, duration=audio.shape[0] / RATE)
        on_info(info)
        with self.lock:
            self.log.append(("info", lane))
        segments = []
        for word in self.media_words:
            if start <= word["start"] and word["end"] <= start + audio.shape[0] / RATE:
                timed = {**word, "start": word["start"] - start, "end": word["end"] - start, "probability": 0.9}
                if owned is None or owned[0] <= (timed["start"] + timed["end"]) / 2 < owned[1]:
                    segments.append({"start": timed["start"], "end": timed["end"], "text": timed["text"], "words": [timed]})
                    on_progress(segments[-1])
        report = {"speech_sec": 2.0, "speech_with_words_sec": 2.0, "speech_with_words_pct": 100.0, "speech_regions": 1, "retried": [], "uncovered": [], "word_repairs": {"widened": 1}}
        return info, segments, report


def word(text, start, end):
    return {"text": text, "start": start, "end": end}


WORDS = [word("eins", 1.0, 1.5), word("zwei", 48.0, 48.6), word("drei", 52.0, 52.5), word("vier", 99.0, 99.5)]


def run(audio, count, language=None, fail_lane=None, owned=None):
    whole = (0, audio.shape[0]) if owned is None else (round(owned[0] * RATE), round(owned[1] * RATE))
    fake = FakePartTranscriber(audio, lanes.parts(audio, whole, count), WORDS, fail_lane)
    infos, progress = [], []
    result = lanes.transcribe(audio, language, owned, count, fake, infos.append, progress.append)
    return fake, infos, progress, result


class Transcribe(unittest.TestCase):
    audio = np.zeros(100 * RATE, np.float32)  # silence: the cut is the even split, at 50 s

    def test_the_first_lane_finds_the_language_and_the_others_start_with_it_once_it_has(self):
        fake, infos, _, (info, _, _) = run(self.audio, 2)
        starts = [entry for entry in fake.log if entry[0] == "start"]
        self.assertEqual([(lane, language) for _, lane, language, _ in starts], [(0, None), (1, "de")])
        self.assertLess(fake.log.index(("info", 0)), fake.log.index(starts[1]), "the second lane starts after the first has its language")
        self.assertEqual([(i.language, i.duration) for i in infos], [("de", 100.0)], "one info, with the piece's length")
        self.assertEqual((info.language, info.duration), ("de", 100.0))

    def test_a_language_already_known_is_given_to_every_lane(self):
        fake, _, _, _ = run(self.audio, 2, language="es")
        self.assertEqual([entry[2] for entry in fake.log if entry[0] == "start"], ["es", "es"])

    def test_each_word_is_kept_once_from_the_lane_that_owns_it_and_timed_on_the_piece(self):
        fake, _, progress, (_, segments, report) = run(self.audio, 2)
        self.assertEqual([(w["text"], w["start"], w["end"]) for s in segments for w in s["words"]], [(w["text"], w["start"], w["end"]) for w in WORDS])
        self.assertEqual(sorted(entry[3] for entry in fake.log if entry[0] == "start"), [(0.0, 50.0), (5.0, 55.0)], "each lane owns its part, in its own seconds")
        positions = [record["end"] for record in progress]
        self.assertEqual(positions, sorted(positions), "progress only grows")
        self.assertLessEqual(max(positions), 100.0)
        self.assertEqual((report["speech_sec"], report["speech_regions"], report["word_repairs"]), (4.0, 2, {"widened": 2}))

    def test_the_owned_part_of_a_piece_is_what_the_lanes_share(self):
        fake, _, _, (_, segments, _) = run(self.audio, 2, owned=(5.0, 95.0))
        self.assertEqual(sorted(entry[3] for entry in fake.log if entry[0] == "start"), [(5.0, 50.0), (5.0, 50.0)])
        self.assertEqual([w["text"] for s in segments for w in s["words"]], ["zwei", "drei"], "words outside the piece's own part are another piece's")

    def test_a_piece_not_cut_goes_to_the_transcriber_as_it_is(self):
        short = np.zeros(20 * RATE, np.float32)
        fake = FakePartTranscriber(short, [(0, short.shape[0], (0, short.shape[0]))], WORDS)
        infos = []
        info, segments, _ = lanes.transcribe(short, "en", None, 2, fake, infos.append, lambda record: None)
        self.assertEqual([entry for entry in fake.log if entry[0] == "start"], [("start", 0, "en", None)])
        self.assertEqual((info.duration, [w["text"] for s in segments for w in s["words"]]), (20.0, ["eins"]))

    def test_a_lane_that_fails_fails_the_piece_whether_before_or_after_the_language(self):
        for lane in (0, 1):
            with self.assertRaisesRegex(RuntimeError, f"lane {lane} failed"):
                run(self.audio, 2, fail_lane=lane)


if __name__ == "__main__":
    unittest.main()
