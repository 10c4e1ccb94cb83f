"""Benchmark helper: faster-whisper on its own, as a script would call it, with the decoding options
Sophia's worker passes (word timestamps on). Prints {"words", "duration"} as JSON: words as a
reader sees them, separated by spaces in the text.
Usage: bare_transcribe.py MEDIA MODEL_DIR OPTIONS_JSON   (OPTIONS_JSON: the worker's options, options.ts)"""
import json
import sys

from faster_whisper import BatchedInferencePipeline, WhisperModel

DECODING = ("language", "task", "beam_size", "temperature", "initial_prompt", "hotwords", "vad_filter", "condition_on_previous_text", "hallucination_silence_threshold")


def main(media, directory, options):
    model = WhisperModel(directory, device=options["device"], compute_type=options["compute_type"], cpu_threads=options["cpu_threads"], local_files_only=True)
    decoding = {**{key: options[key] for key in DECODING}, "word_timestamps": True}
    if options["batch_size"] > 1:
        segments, info = BatchedInferencePipeline(model).transcribe(media, batch_size=options["batch_size"], **decoding)
    else:
        segments, info = model.transcribe(media, **decoding)
    # Counted as the bench counts Sophia's, the words of the segments' text: faster-whisper's word
    # tokens split "all-eating" and "12 %" in two (1 % more words on the bench's speech, spec §4.1).
    words = sum(len(segment.text.split()) for segment in segments)
    print(json.dumps({"words": words, "duration": info.duration}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
