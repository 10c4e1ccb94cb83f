"""Test helper: re-encodes an audio file into another container/codec with PyAV (already in the
engine's venv), so tests can feed the runner real MP3/M4A files. Usage: transcode.py IN OUT"""
import sys

import av


def transcode(source: str, target: str) -> None:
    codec = {"mp3": "libmp3lame", "m4a": "aac", "ogg": "libvorbis"}[target.rsplit(".", 1)[-1]]
    with av.open(source) as inp, av.open(target, "w") as out:
        stream = out.add_stream(codec, rate=16000, layout="mono")
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="mono", rate=16000)
        for frame in inp.decode(audio=0):
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


if __name__ == "__main__":
    transcode(sys.argv[1], sys.argv[2])
