"""Benchmark helper: a long MP3 made of the given recordings, one after another with a short pause,
repeated until it lasts the given minutes (the last one cut there; with --whole, only whole readings,
the last one that fits). Encoded with PyAV (in the engine's venv) as it goes, so the file is never
held in memory. Prints, as JSON on stdout, where each reading starts: [[source index, seconds], ...].
Usage: long_media.py [--whole] OUT MINUTES SOURCE..."""
import json
import sys

import av
import numpy as np
from faster_whisper.audio import decode_audio

RATE = 16000
PAUSE_SEC = 0.8
FRAME_SAMPLES = 1152 * 8


def build(target, minutes, sources, whole=False):
    """Writes the MP3; returns [(source index, start seconds)] of each reading in it."""
    clips = [(decode_audio(source, sampling_rate=RATE) * 32767).astype(np.int16) for source in sources]
    pause = np.zeros(int(PAUSE_SEC * RATE), dtype=np.int16)
    remaining = int(minutes * 60 * RATE)
    starts = []
    with av.open(target, "w") as out:
        stream = out.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.bit_rate = 64000
        index = 0
        at = 0
        while remaining > 0:
            clip = clips[index % len(clips)]
            if whole and clip.shape[0] > remaining:
                break
            samples = np.concatenate([clip, pause])[:remaining]
            starts.append((index % len(clips), at / RATE))
            for first in range(0, samples.shape[0], FRAME_SAMPLES):
                frame = av.AudioFrame.from_ndarray(samples[first : first + FRAME_SAMPLES].reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate = RATE
                for packet in stream.encode(frame):
                    out.mux(packet)
            remaining -= samples.shape[0]
            at += samples.shape[0]
            index += 1
        for packet in stream.encode(None):
            out.mux(packet)
    return starts


if __name__ == "__main__":
    args = sys.argv[1:]
    whole = args[:1] == ["--whole"]
    args = args[1:] if whole else args
    print(json.dumps(build(args[0], float(args[1]), args[2:], whole)))
