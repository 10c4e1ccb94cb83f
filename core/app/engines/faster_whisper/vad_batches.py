"""Silero VAD with less memory: the same speech probabilities, its encoder fed fewer rows at a time.

faster-whisper's SileroVADModel.__call__ (1.2.1, pinned in requirements.txt) feeds the ONNX model
10,000 rows of 512 samples (320 s) per run, and builds every row of the audio, with its 64 samples
of context, up front: for a 10-minute piece of long media that costs about 200 MiB at the peak of
the coverage step's VAD. The model carries its LSTM state (h, c) from one run to the next, so
feeding it BATCH_ROWS rows at a time, each run's rows built as it comes, gives the same
probabilities bit for bit (test/unit/python/test_audio_pieces.py compares them with faster-whisper's
own call) for about 100 MiB less.

install() makes faster_whisper.vad.get_speech_timestamps use it, for the worker's process: the
coverage step, the cuts between pieces, forced alignment's bounds and faster-whisper's vad_filter.
"""

import numpy as np

WINDOW = 512
CONTEXT = 64
BATCH_ROWS = 1000


class SmallBatchVad:
    """A SileroVADModel's session, called as faster-whisper calls the model: model(audio) -> probabilities."""

    def __init__(self, model):
        self.session = model.session

    def __call__(self, audio, num_samples=WINDOW, context_size_samples=CONTEXT):
        assert audio.ndim == 1 and audio.shape[0] % num_samples == 0, "audio of whole 512-sample windows, as get_speech_timestamps pads it"
        rows = audio.reshape(-1, num_samples)
        h = np.zeros((1, 1, 128), dtype="float32")
        c = np.zeros((1, 1, 128), dtype="float32")
        outputs = []
        for first in range(0, rows.shape[0], BATCH_ROWS):
            chunk = rows[first : first + BATCH_ROWS]
            if first + chunk.shape[0] == rows.shape[0]:
                # faster-whisper zeroes the last row's last 64 samples (its context array is a view
                # of the audio): the same input, so the same last probability.
                chunk = chunk.copy()
                chunk[-1, -context_size_samples:] = 0
            context = np.zeros((chunk.shape[0], context_size_samples), dtype=audio.dtype)
            if first > 0:
                context[0] = rows[first - 1, -context_size_samples:]
            context[1:] = chunk[:-1, -context_size_samples:]
            output, h, c = self.session.run(None, {"input": np.concatenate([context, chunk], 1), "h": h, "c": c})
            outputs.append(output)
        return np.concatenate(outputs, axis=0)


def install():
    """faster_whisper.vad.get_speech_timestamps takes its model from get_vad_model(): this one, from now on."""
    from faster_whisper import vad

    if isinstance(vad.get_vad_model(), SmallBatchVad):
        return
    model = SmallBatchVad(vad.get_vad_model())
    vad.get_vad_model = lambda: model
