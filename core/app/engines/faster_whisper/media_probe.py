"""Whether a media file has an audio stream the engine can decode: what `submit` asks before it
writes a task, so a text file or a silent video is refused then, not when its turn comes to run.

    python media_probe.py <media>

Prints one JSON line: {"audio": true, "duration_sec": ...} or {"audio": false, "problem": "..."}.
Opens only the container's header (PyAV), never decodes the audio: a fraction of a second.
"""

import json
import sys

import av


def probe(media):
    try:
        with av.open(media, mode="r", metadata_errors="ignore") as container:
            streams = container.streams.audio
            if not streams:
                kinds = sorted({stream.type for stream in container.streams}) or ["none"]
                return {"audio": False, "problem": f"it has no audio stream (streams: {', '.join(kinds)})"}
            duration = container.duration / av.time_base if container.duration else None
            return {"audio": True, "duration_sec": duration}
    except Exception as error:  # PyAV's FFmpegError subclasses: not a media file FFmpeg can read
        return {"audio": False, "problem": f"it is not a media file FFmpeg can read ({error})"}


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1])))
