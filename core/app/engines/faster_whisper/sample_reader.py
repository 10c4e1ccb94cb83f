"""A media's samples read forward, holding only the stretch still wanted: for forced alignment.

Alignment asks for spans of the media in time order, each a few seconds to a few minutes long, of a
file that may last hours. Holding the whole waveform (what faster-whisper's decode_audio does) would
cost 230 MB an hour; here the media is decoded as a stream (audio_pieces.MediaAudio.blocks, the
same samples decode_audio gives) and a block is dropped as soon as the reader has been told it is
no longer wanted (forget). What is held is therefore the stretch from the last forget to the
furthest sample asked for, plus at most one decoded block (about 31 s).

Going back before what was forgotten reopens the media and decodes it again from the start: correct
whatever the order of the requests, and costly only for an order the refine stage never sends.
"""

import numpy as np

import audio_pieces
from audio_time import SAMPLING_RATE


class SampleReader:
    """The media's 16 kHz mono float32 samples; a context manager. Raises audio_pieces.MediaUnreadable."""

    def __init__(self, media):
        self.media = media
        self.ahead = None
        self.peak_held = 0
        """The most samples held at once, for tests and benchmarks."""
        self._open()
        try:
            self._read_until(1)  # an unreadable or empty media fails here, before a model loads
            if self.read_to == 0:
                raise audio_pieces.MediaUnreadable(f"media {media} contains no audio samples")
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.ahead is not None:
            self.ahead.close()
            self.ahead = None
        if self.source is not None:
            self.blocks.close()
            self.source.__exit__(None, None, None)
            self.source = None

    def lookahead(self):
        """A second reader of the same media, opened on first use and closed with this one: it can read
        far ahead (to find where a long span's speech ends) while this one keeps its place."""
        if self.ahead is None:
            self.ahead = SampleReader(self.media)
        return self.ahead

    def samples(self, lo, hi):
        """Samples [lo, hi) of the media, as audio[lo:hi] of the whole waveform: fewer past its end."""
        lo, hi = max(0, lo), max(0, hi)
        if lo < self.mark:
            self._rewind(lo)
        self._read_until(hi)
        parts = []
        for start, block in self.held:
            end = start + block.shape[0]
            if start < hi and end > lo:
                parts.append(block[max(0, lo - start) : min(block.shape[0], hi - start)])
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def clamp(self, seconds):
        """min(seconds, the media's duration), decoding only as far as seconds."""
        while not self.ended and self.read_to / SAMPLING_RATE < seconds:
            self._read_block()
        return min(seconds, self.read_to / SAMPLING_RATE)

    def forget(self, before):
        """Samples before this index are no longer wanted: their blocks are dropped."""
        self.mark = max(self.mark, before)
        self.held = [(start, block) for start, block in self.held if start + block.shape[0] > self.mark]

    def _open(self):
        self.source = audio_pieces.MediaAudio(self.media)
        self.blocks = self.source.blocks()
        self.held = []
        self.read_to = 0
        self.mark = 0
        self.ended = False

    def _rewind(self, lo):
        self.blocks.close()
        self.source.__exit__(None, None, None)
        self._open()
        self.mark = lo

    def _read_until(self, hi):
        while not self.ended and self.read_to < hi:
            self._read_block()

    def _read_block(self):
        block = next(self.blocks, None)
        if block is None:
            self.ended = True
            return
        start, self.read_to = self.read_to, self.read_to + block.shape[0]
        if self.read_to > self.mark:
            self.held.append((start, block))
            self.peak_held = max(self.peak_held, sum(held.shape[0] for _, held in self.held))
