"""Whisper's log-mel features, computed a block of frames at a time.

faster-whisper's FeatureExtractor builds the whole short-time Fourier transform of its input before
it keeps the mel bands: the windowed frames (float32, 400 per 10 ms) and their complex spectrum,
about 0.7 MB of transient memory per second of audio, 420 MB for a 10-minute piece and 5 GB for two
hours. This one transforms BLOCK_FRAMES frames at a time into the power spectrum, then multiplies by
the mel filters once, as faster-whisper does: the features are bit for bit the same (the matrix
product is the same BLAS call on the same layout; tested in test/unit/python/test_audio_pieces.py).
The worker installs it on every model it loads.
"""

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

# 30 s of frames: the transient is a few MB whatever the length of the audio.
BLOCK_FRAMES = 3000


class BlockwiseFeatureExtractor(FeatureExtractor):
    def __call__(self, waveform, padding=160, chunk_length=None):
        # Same signature and side effects as FeatureExtractor.__call__ (faster-whisper 1.2.1).
        if chunk_length is not None:
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        waveform = np.asarray(waveform, dtype=np.float32)
        if padding:
            waveform = np.pad(waveform, (0, padding))
        half = self.n_fft // 2
        centered = np.pad(waveform, (half, half), mode="reflect")
        frame_count = 1 + (centered.shape[0] - self.n_fft) // self.hop_length
        frames = np.lib.stride_tricks.as_strided(centered, (frame_count, self.n_fft), (self.hop_length * centered.strides[0], centered.strides[0]), writeable=False)
        window = np.hanning(self.n_fft + 1)[:-1].astype("float32")
        kept = frame_count - 1  # faster-whisper drops the last frame too
        power = np.empty((kept, self.n_fft // 2 + 1), dtype=np.float32)
        for first in range(0, kept, BLOCK_FRAMES):
            last = min(kept, first + BLOCK_FRAMES)
            power[first:last] = np.abs(np.fft.rfft(frames[first:last] * window, n=self.n_fft, axis=-1).astype("complex64")) ** 2
        # power.T has the layout faster-whisper's transposed spectrum has: the same product, bit for bit.
        mel = self.mel_filters @ power.T
        del power
        # faster-whisper's steps, in place: the same float32 operations, without four more copies.
        np.clip(mel, 1e-10, None, out=mel)
        np.log10(mel, out=mel)
        np.maximum(mel, mel.max() - 8.0, out=mel)
        mel += 4.0
        mel /= 4.0
        return mel
