"""Media read as a stream of pieces of bounded length, each cut in a silence.

faster-whisper's decode_audio holds a file's whole waveform (16 kHz mono float32: 230 MB an hour,
and an int16 copy besides while it decodes), and the model then works on all the audio it is given
at once. Here the media is decoded by PyAV as a stream, into the same samples decode_audio gives
(same resampler, same frame grouping, same int16 to float conversion), and handed out a piece at a
time:

- a piece is at most PIECE_SEC long; media no longer than that is one piece, its whole waveform;
- the cut is made in the last CUT_WINDOW_SEC of a piece, in the middle of the longest silence
  Silero VAD (shipped with faster-whisper) finds there, if it lasts MIN_PAUSE_SEC or more: no word
  is cut, and each piece keeps some silence around its speech. A window without such a pause
  (music, a non-stop talker) is cut in its quietest QUIET_STRETCH_SEC, a gap between words;
- each piece *owns* the media from the previous cut to its own cut, and its audio reaches
  OVERLAP_SEC further either side: Whisper hears the first and last words it owns in context, not
  at the very edge of its audio (where tiny.en was seen to drop a short first word), and the owned
  parts together are the media. A word belongs to the piece that owns its middle (piecewise.py).
"""

import gc
import os
from dataclasses import dataclass

import av
import numpy as np

from audio_time import SAMPLING_RATE
# 10 minutes: the worker's memory then stays a few hundred MB whatever the media's length (spec
# §4.1 has the measurements), and a 2-hour file has about 12 cuts.
PIECE_SEC = 600.0
CUT_WINDOW_SEC = 60.0
OVERLAP_SEC = 5.0
MIN_PAUSE_SEC = 0.2
QUIET_FRAME_SEC = 0.02
QUIET_STRETCH_SEC = 0.2
# decode_audio resamples FFmpeg's frames in groups of this many samples; grouping the same way gives
# the same samples.
GROUP_SAMPLES = 500_000
# Silero VAD as speech_coverage.py uses it: any pause of 100 ms between words is silence.
CUT_VAD_OPTIONS = {"threshold": 0.5, "min_speech_duration_ms": 250, "min_silence_duration_ms": 100, "speech_pad_ms": 30}


class MediaUnreadable(Exception):
    """The media cannot be read as audio; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Piece:
    start: float
    """Where audio starts, in seconds from the start of the media."""
    audio: np.ndarray
    owned: tuple
    """(start, end) of the media this piece transcribes, in seconds from the start of the media: audio
    reaches up to OVERLAP_SEC beyond it on either side, for context."""
    last: bool

    @property
    def duration(self):
        return self.audio.shape[0] / SAMPLING_RATE


def configured_piece_sec(environ=os.environ):
    """PIECE_SEC, or $SOPHIA_ASR_PIECE_SEC: tests and benchmarks force cuts into short media with it."""
    raw = environ.get("SOPHIA_ASR_PIECE_SEC")
    if not raw:
        return PIECE_SEC
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value >= 1.0:
        raise ValueError(f"SOPHIA_ASR_PIECE_SEC must be a number of seconds, at least 1, got {raw!r}")
    return value


class MediaAudio:
    """An open media file's first audio stream. Use as a context manager; pieces() reads it once."""

    def __init__(self, media):
        if not os.path.isfile(media):
            problem = "is not a file" if os.path.exists(media) else "does not exist"
            raise MediaUnreadable(f"media {media} {problem}")
        self.media = media
        try:
            self.container = av.open(media, mode="r", metadata_errors="ignore")
        except Exception as error:  # PyAV's FFmpegError subclasses: unreadable, not a media file
            raise MediaUnreadable(f"media {media} cannot be decoded as audio: {error}")
        if not self.container.streams.audio:
            self.container.close()
            raise MediaUnreadable(f"media {media} has no audio stream")
        self.stream = self.container.streams.audio[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.container.close()
        # PyAV's resampler keeps objects alive until a collection (faster-whisper issue #390).
        gc.collect()

    def duration_hint(self):
        """The length the container declares, in seconds; None when it declares none. Decoding decides the real one."""
        if self.stream.duration is not None and self.stream.time_base is not None:
            return float(self.stream.duration * self.stream.time_base)
        if self.container.duration is not None:
            return self.container.duration / av.time_base
        return None

    def pieces(self, piece_sec=PIECE_SEC):
        """Pieces in media order, each at most piece_sec long (one, the whole waveform, when piece_sec is
        None); raises MediaUnreadable when there are no samples or decoding fails."""
        limit = None if piece_sec is None else int(piece_sec * SAMPLING_RATE)
        overlap = 0 if piece_sec is None else int(min(OVERLAP_SEC, piece_sec / 4) * SAMPLING_RATE)
        # The cut leaves `overlap` held after it and moves the next piece's audio on by at least that.
        window = 0 if limit is None else min(int(CUT_WINDOW_SEC * SAMPLING_RATE), (limit - 2 * overlap) // 2)
        held, held_samples = [], 0
        start = owned = 0  # media samples: where held audio starts, and where the next piece's own part does
        for block in self.blocks():
            held.append(block)
            held_samples += block.shape[0]
            while limit is not None and held_samples > limit:
                audio = np.concatenate(held)
                # The blocks are in audio now: held past the yield they would double the piece's
                # samples in memory while it is transcribed (38 MB for 10 minutes).
                held = None
                latest = limit - overlap
                cut = latest - window + cut_offset(audio[latest - window : latest])
                yield Piece(start / SAMPLING_RATE, audio[: cut + overlap], (owned / SAMPLING_RATE, (start + cut) / SAMPLING_RATE), last=False)
                kept = cut - overlap
                held, held_samples = [audio[kept:].copy()], audio.shape[0] - kept
                start, owned = start + kept, start + cut
                del audio
        if start == 0 and held_samples == 0:
            raise MediaUnreadable(f"media {self.media} contains no audio samples")
        audio, held = np.concatenate(held), None
        yield Piece(start / SAMPLING_RATE, audio, (owned / SAMPLING_RATE, (start + held_samples) / SAMPLING_RATE), last=True)

    def blocks(self):
        """16 kHz mono float32 arrays, decoded and resampled as faster_whisper.audio.decode_audio does."""
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=SAMPLING_RATE)
        fifo = av.audio.fifo.AudioFifo()
        frames = self.decoded_frames()
        try:
            for frame in frames:
                frame.pts = None  # as decode_audio: the FIFO must not check timestamps
                fifo.write(frame)
                if fifo.samples >= GROUP_SAMPLES:
                    yield from as_float(resampler.resample(fifo.read()))
            if fifo.samples > 0:
                yield from as_float(resampler.resample(fifo.read()))
            yield from as_float(resampler.resample(None))
        except av.error.FFmpegError as error:
            raise MediaUnreadable(f"media {self.media} cannot be decoded as audio: {error}")

    def decoded_frames(self):
        frames = self.container.decode(self.stream)
        while True:
            try:
                yield next(frames)
            except StopIteration:
                return
            except av.error.InvalidDataError:
                continue  # a damaged frame: skipped, as decode_audio does


def as_float(frames):
    for frame in frames:
        yield frame.to_ndarray().reshape(-1).astype(np.float32) / 32768.0


def cut_offset(window):
    """Where to cut in window (a sample index): the middle of its longest pause, else of its quietest stretch."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    regions = get_speech_timestamps(window, VadOptions(**CUT_VAD_OPTIONS), sampling_rate=SAMPLING_RATE)
    silence = longest_silence([(region["start"], region["end"]) for region in regions], window.shape[0])
    if silence is not None and silence[1] - silence[0] >= MIN_PAUSE_SEC * SAMPLING_RATE:
        return (silence[0] + silence[1]) // 2
    return quietest_stretch(window)


def longest_silence(regions, length):
    """The longest stretch of [0, length) outside every region (start, end), ties to the later; None when speech fills it."""
    best, cursor = None, 0
    for start, end in sorted(regions) + [(length, length)]:
        if start > cursor and (best is None or start - cursor >= best[1] - best[0]):
            best = (cursor, start)
        cursor = max(cursor, end)
    return best


def quietest_stretch(window):
    """The middle of the QUIET_STRETCH_SEC of window (in QUIET_FRAME_SEC steps) with the least energy."""
    size = int(QUIET_FRAME_SEC * SAMPLING_RATE)
    span = round(QUIET_STRETCH_SEC / QUIET_FRAME_SEC)
    count = window.shape[0] // size
    if count < span:
        return window.shape[0] // 2
    energy = np.square(window[: count * size].reshape(count, size), dtype=np.float64).sum(axis=1)
    stretches = np.convolve(energy, np.ones(span), mode="valid")
    return int(np.argmin(stretches)) * size + span * size // 2
