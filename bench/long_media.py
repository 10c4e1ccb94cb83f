"""Benchmark helper: a long MP3 made of the given recordings, one after another with a short pause,
repeated until it lasts the given minutes (the last one cut there). Encoded with PyAV (in the engine's
venv) as it goes, so the file is never held in memory.
Usage: long_media.py OUT MINUTES SOURCE..."""
import sys

import av
import numpy as np
from faster_whisper.audio import decode_audio

RATE = 16000
PAUSE_SEC = 0.8
FRAME_SAMPLES = 1152 * 8


def build(target, minutes, sources):
    clips = [(decode_audio(source, sampling_rate=RATE) * 32767).astype(np.int16) for source in sources]
    pause = np.zeros(int(PAUSE_SEC * RATE), dtype=np.int16)
    remaining = int(minutes * 60 * RATE)
    with av.open(target, "w") as out:
        stream = out.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.bit_rate = 64000
        index = 0
        while remaining > 0:
            samples = np.concatenate([clips[index % len(clips)], pause])[:remaining]
            for first in range(0, samples.shape[0], FRAME_SAMPLES):
                frame = av.AudioFrame.from_ndarray(samples[first : first + FRAME_SAMPLES].reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = RATE
                for packet in stream.encode(frame):
                    out.mux(packet)
            remaining -= samples.shape[0]
            index += 1
        for packet in stream.encode(None):
            out.mux(packet)


if __name__ == "__main__":
    build(sys.argv[1], float(sys.argv[2]), sys.argv[3:])
