"""espeak-ng speech for the Python tests and benches: texts spoken one by one, silence between them."""

import os
import subprocess

SAMPLING_RATE = 16000


def spoken(directory, texts, gap_sec):
    """(audio at 16 kHz, [the time each text's audio ends]): each text in turn, gap_sec of silence after each but the last."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    pieces, ends, at = [], [], 0
    for index, text in enumerate(texts):
        path = os.path.join(directory, f"text{index}.wav")
        subprocess.run(["espeak-ng", "-s", "160", "-w", path, text], check=True)
        piece = decode_audio(path, sampling_rate=SAMPLING_RATE)
        at += len(piece)
        ends.append(at / SAMPLING_RATE)
        pieces.append(piece)
        if index + 1 < len(texts):
            pieces.append(np.zeros(int(gap_sec * SAMPLING_RATE), dtype=np.float32))
            at += len(pieces[-1])
    return np.concatenate(pieces), ends
