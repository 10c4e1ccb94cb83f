"""The media's whole waveform in memory, read the way the worker read it for alignment before
sample_reader.py: the reference that streamed alignment is compared with (tests, bench/align_memory.py)."""


class WholeWaveform:
    """A sample_reader.SampleReader over an array already decoded: nothing to read ahead or forget."""

    def __init__(self, audio, rate=16000):
        self.audio = audio
        self.rate = rate

    def samples(self, lo, hi):
        return self.audio[lo:hi]

    def clamp(self, seconds):
        return min(seconds, self.audio.shape[0] / self.rate)

    def forget(self, before):
        pass

    def lookahead(self):
        return self
