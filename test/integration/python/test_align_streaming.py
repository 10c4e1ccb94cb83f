"""Forced alignment reading the media forward (sample_reader.py), with the real engine (tiny.en).

Run by test/integration/speech-coverage.test.ts. The channel that collects the worker's replies is a
fake (named as such); the model, the media and every alignment step are real.

- On a corpus reading, forced_align.align gives exactly what aligning on the whole waveform (faster-whisper's
  decode_audio, what the worker held before) gives, span by span, though the spans that fit a window
  are aligned on the lanes, several at once; it reports its progress as each span is done.
- On ten minutes of media, alignment holds a bounded stretch of it: numpy's allocations (tracemalloc
  sees them) peak far below the waveform's size, for short spans and for one longer than
  ALIGN_WHOLE_SPAN_SEC, which is searched window by window by a second reader.
"""

import json
import os
import tempfile
import tracemalloc
import unittest
import wave

import numpy as np

import espeak_audio
import sample_reader
import forced_align
import model_cache
import request_common
from audio_time import SAMPLING_RATE
from derive_onsets import find_corpus
from whole_waveform import WholeWaveform

RATE = SAMPLING_RATE
OPTIONS = {"allow_download": False, "device": "cpu", "compute_type": "int8", "cpu_threads": 0, "lanes": 1}
ONSETS = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "corpus_onsets", "sonnet002.json")
LONG_MEDIA_SEC = 600.0
# Sentences said in ten minutes of silence: (onset in seconds, text).
SAID = [(40.0, "The meeting starts with the budget for next year."), (330.0, "Then we talk about the new office."), (545.0, "That is all for today, thank you.")]


class FakeChannel:
    """Collects what the worker would write to the runner."""

    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(json.loads(json.dumps(message)))


def aligned(cache, media, spans, progress=None):
    """The aligned spans; `progress`, a list, gets the (done, total) of each align_progress message."""
    channel = FakeChannel()
    forced_align.align(channel, cache, {"type": "align", "id": "a1", "media": media, "model": "tiny.en", "options": OPTIONS, "language": "en", "spans": spans})
    (reply,) = [message for message in channel.sent if message["type"] == "aligned"]
    if progress is not None:
        progress.extend((message["done"], message["total"]) for message in channel.sent if message["type"] == "align_progress")
    return reply["spans"]


def words_of(text):
    return text.replace("’", "'").split()


class AlignStreaming(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cache = model_cache.ModelCache()
        directory, _ = request_common.find_model("tiny.en", OPTIONS)
        cls.model, _, _ = cls.cache.get(directory, OPTIONS)
        cls.folder = tempfile.TemporaryDirectory()
        cls.long_media = os.path.join(cls.folder.name, "long.wav")
        audio = np.zeros(int(LONG_MEDIA_SEC * RATE), dtype=np.float32)
        for onset, text in SAID:
            (speech, _) = espeak_audio.spoken(cls.folder.name, [text], 0.0)
            audio[int(onset * RATE) : int(onset * RATE) + speech.shape[0]] = speech
        with wave.open(cls.long_media, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
        cls.waveform_bytes = audio.nbytes

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def test_a_reading_aligns_exactly_as_on_the_whole_waveform(self):
        from faster_whisper.audio import decode_audio
        from faster_whisper.tokenizer import Tokenizer

        media = os.path.join(find_corpus(), "sonnet002.mp3")
        with open(ONSETS, encoding="utf-8") as file:
            lines = [line for line in json.load(file)["lines"] if line["onset"] is not None]
        # Two lines at a time, each span from the first line's onset to the onset after the second;
        # the last reaches past the media's end, and one span is the whole reading (several chunks,
        # across every decoded block). Given out of time order, answered in the order given.
        spans = [{"start": a["onset"], "end": c["onset"], "words": words_of(a["text"] + " " + b["text"])} for a, b, c in zip(lines[0::2], lines[1::2], lines[2::2])]
        spans.append({"start": lines[-2]["onset"], "end": 60.0, "words": words_of(lines[-2]["text"] + " " + lines[-1]["text"])})
        spans.insert(2, {"start": 0.0, "end": 53.0, "words": [word for line in lines for word in words_of(line["text"])]})
        progress = []
        streamed = aligned(self.cache, media, spans, progress)
        self.assertEqual(progress, [(done, len(spans)) for done in range(len(spans) + 1)], "progress as each span is done")

        whole = WholeWaveform(decode_audio(media, sampling_rate=RATE))
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe", language="en")
        expected = [forced_align.align_span(self.model, tokenizer, whole, span["start"], span["end"], span["words"]) for span in spans]
        self.assertTrue(all(result is not None and len(result) == len(span["words"]) for result, span in zip(expected, spans)), "every span aligns")
        self.assertEqual(streamed, json.loads(json.dumps(expected)))

    def test_ten_minutes_of_media_are_aligned_holding_a_bounded_stretch_of_them(self):
        spans = [{"start": onset - 2.0, "end": onset + 6.0, "words": text.split()} for onset, text in SAID]
        result, peak = self.traced(spans)
        for (onset, _), words in zip(SAID, result):
            self.assertIsNotNone(words)
            self.assertAlmostEqual(words[0]["start"], onset, delta=0.5, msg=f"the sentence said at {onset} s starts there: {words[0]}")
        self.assertLess(peak, self.waveform_bytes * 0.3, f"peak {peak / 2**20:.1f} MiB of numpy arrays for a {self.waveform_bytes / 2**20:.1f} MiB waveform")

    def test_a_span_too_long_to_hold_is_searched_window_by_window(self):
        onset, text = SAID[1]
        span = {"start": onset - 170.0, "end": onset + 100.0, "words": text.split()}
        (held_whole,) = self.traced([span])[0]
        readers = []

        class RecordedReader(sample_reader.SampleReader):
            """The real reader, kept so the test can read how many samples it held at most."""

            def __init__(self, media):
                super().__init__(media)
                readers.append(self)

        real = (forced_align.ALIGN_WHOLE_SPAN_SEC, forced_align.ALIGN_SCAN_SEC, sample_reader.SampleReader)
        forced_align.ALIGN_WHOLE_SPAN_SEC, forced_align.ALIGN_SCAN_SEC, sample_reader.SampleReader = 40.0, 20.0, RecordedReader
        try:
            (scanned,), _ = self.traced([span])
        finally:
            forced_align.ALIGN_WHOLE_SPAN_SEC, forced_align.ALIGN_SCAN_SEC, sample_reader.SampleReader = real
        self.assertAlmostEqual(scanned[0]["start"], onset, delta=0.5, msg=f"the sentence said at {onset} s starts there: {scanned[0]}")
        for a, b in zip(scanned, held_whole):
            self.assertAlmostEqual(a["start"], b["start"], delta=0.05)
            self.assertAlmostEqual(a["end"], b["end"], delta=0.05)
        self.assertEqual(len(readers), 2, "the aligning reader and its lookahead")
        span_samples = (span["end"] - span["start"]) * RATE
        for reader in readers:
            self.assertLess(reader.peak_held, span_samples * 0.4, f"a reader held {reader.peak_held / RATE:.0f} s of a {span_samples / RATE:.0f} s span")

    def traced(self, spans):
        tracemalloc.start()
        try:
            result = aligned(self.cache, self.long_media, spans)
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


if __name__ == "__main__":
    unittest.main()
