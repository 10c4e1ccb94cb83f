"""The decode options of a request: faster-whisper's transcribe() arguments, and the decoding it starts."""

DECODING_OPTIONS = (
    "language",
    "task",
    "beam_size",
    "temperature",
    "initial_prompt",
    "hotwords",
    "vad_filter",
    "condition_on_previous_text",
    "hallucination_silence_threshold",
)


def decode_options(options):
    """faster-whisper's transcribe() arguments for a request, as the runner resolved them (options.ts; the choices are measured in spec §4.1)."""
    return {**{key: options[key] for key in DECODING_OPTIONS}, "word_timestamps": True}


def start_decoding(model, audio, decoding, batch_size):
    """faster-whisper's lazy segment generator and its info; above batch size 1, voiced chunks are decoded in batches."""
    if batch_size > 1:
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(model).transcribe(audio, batch_size=batch_size, **decoding)
    return model.transcribe(audio, **decoding)
