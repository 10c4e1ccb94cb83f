"""whisper-ctranslate2 with its model kept loaded, for bench/asr_throughput.py (run with wct2's own Python).

    <wct2 venv>/bin/python bench/wct2_server.py --model_directory DIR [any whisper-ctranslate2 option]

Options are parsed by whisper-ctranslate2's own command line (commandline.py), so everything not
given is its default; the model loads once (its Transcribe class), then each line on stdin is a
media path, transcribed as its main() does (Transcribe.inference, then its writers), and answered
on stdout with one JSON line: {"media", "srt", "cpu_sec", "wall_sec", "load_sec"} (load_sec only on
the first). Its own printing goes to stderr. Not part of Sophia: a reference for benchmarks only.
"""

import json
import os
import sys
import tempfile
import time

from whisper_ctranslate2.commandline import CommandLine
from whisper_ctranslate2.transcribe import Transcribe
from whisper_ctranslate2.whisper_ctranslate2 import get_language, get_transcription_options
from whisper_ctranslate2.writers import get_writer


def main():
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # wct2 prints each segment (verbose is its default): keep stdout for answers
    sys.argv = ["whisper-ctranslate2", *sys.argv[1:], "placeholder.wav"]
    args = CommandLine().read_command_line()
    args.pop("audio")
    output_format, model_directory = args.pop("output_format"), args.pop("model_directory")
    language, task, verbose = args.pop("language"), args.pop("task"), args.pop("verbose")
    language = get_language(language, model_directory, args.pop("model"))
    transcribe_args = dict(
        model_path=model_directory,
        device=args.pop("device"),
        device_index=args.pop("device_index"),
        compute_type=args.pop("compute_type"),
        threads=args.pop("threads"),
        cache_directory=args.pop("model_dir"),
        local_files_only=args.pop("local_files_only"),
        batched=args.pop("batched"),
        batch_size=args.pop("batch_size"),
    )
    options = get_transcription_options(args)
    writer_args = {key: args.pop(key) for key in ("highlight_words", "max_line_count", "max_line_width", "max_words_per_line", "pretty_json")}
    started = time.monotonic()
    transcriber = Transcribe(**transcribe_args)
    load_sec = time.monotonic() - started
    with tempfile.TemporaryDirectory() as output_dir:
        for line in sys.stdin:
            media = line.strip()
            if not media:
                continue
            wall, cpu = time.monotonic(), time.process_time()
            result = transcriber.inference(media, task, language, verbose, False, options)
            get_writer(output_format, output_dir)(result, media, writer_args)
            answer = {"media": media, "wall_sec": time.monotonic() - wall, "cpu_sec": time.process_time() - cpu, "load_sec": load_sec}
            with open(os.path.join(output_dir, os.path.splitext(os.path.basename(media))[0] + ".srt"), encoding="utf-8") as file:
                answer["srt"] = file.read()
            protocol.write(json.dumps(answer) + "\n")
            protocol.flush()
            load_sec = 0.0


if __name__ == "__main__":
    main()
