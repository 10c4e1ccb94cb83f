"""Test helper: re-encodes an audio file into another container with PyAV (already in the engine's
venv), so tests can feed the runner real MP3, M4A and Ogg/Opus files, and MP4 or MKV video (a black
picture beside the sound), or cut a short excerpt of a long recording.
Usage: transcode.py IN OUT [SECONDS]"""
import sys

import av
import numpy as np

AUDIO_CODECS = {"mp3": "libmp3lame", "m4a": "aac", "ogg": "libopus", "mp4": "aac", "mkv": "libopus"}
VIDEO_CONTAINERS = {"mp4", "mkv"}
VIDEO_FPS = 5


def transcode(source: str, target: str, max_seconds: float = float("inf")) -> None:
    extension = target.rsplit(".", 1)[-1]
    with av.open(source) as inp, av.open(target, "w") as out:
        audio = out.add_stream(AUDIO_CODECS[extension], rate=16000, layout="mono")
        video = None
        if extension in VIDEO_CONTAINERS:
            video = out.add_stream("mpeg4", rate=VIDEO_FPS)
            video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        resampler = av.AudioResampler(format=audio.codec_context.format, layout="mono", rate=16000)
        seconds = 0.0
        for frame in inp.decode(audio=0):
            if seconds >= max_seconds:
                break
            seconds += frame.samples / frame.sample_rate
            for resampled in resampler.resample(frame):
                out.mux(audio.encode(resampled))
        out.mux(audio.encode(None))
        if video is not None:
            black = np.zeros((64, 64, 3), dtype=np.uint8)
            for index in range(int(seconds * VIDEO_FPS) + 1):
                picture = av.VideoFrame.from_ndarray(black, format="rgb24")
                picture.pts = index
                out.mux(video.encode(picture))
            out.mux(video.encode(None))


if __name__ == "__main__":
    transcode(sys.argv[1], sys.argv[2], *(float(arg) for arg in sys.argv[3:4]))
