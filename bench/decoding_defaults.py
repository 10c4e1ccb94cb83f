"""Decoding defaults chosen on the whole corpus: per recording, the errors of each choice, before and after the coverage step.

    npm run build && HF_HUB_OFFLINE=1 .venv/bin/python bench/decoding_defaults.py [--choice NAME=JSON]... [--stems a,b] [--json FILE]

Every corpus recording (test/support/asr_accuracy.py's list: the four readings and the clips of
clips.tsv, English with tiny.en, the rest with base, no language given) through the worker's own
code (transcribe.transcription's two steps, the model loaded as the worker loads it, one lane) with
Sophia's engine defaults (schemas/engine.schema.json) and with each choice: engine options over
those defaults. Per recording and choice: errors of the first pass (the coverage retries off) and
after the coverage step (what Sophia gives), and the difference from the defaults after it. Bare
faster-whisper (WhisperModel(dir).transcribe(media, beam_size=5), its own defaults) is the floor.
Pooled WER is all errors over all reference words (characters for Chinese and Japanese).
The rule of spec §4.1: a default changes only if the pooled WER improves and no recording gets
more than one error worse.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "support"))

import asr_accuracy  # noqa: E402  (also puts the worker's folder on sys.path)
import decoding  # noqa: E402
import model_cache  # noqa: E402
import request_common  # noqa: E402
import transcribe  # noqa: E402
from audio_time import SAMPLING_RATE  # noqa: E402
from word_errors import errors, normalise  # noqa: E402

CHOICES = {
    "condition_on_previous_text": {"condition_on_previous_text": True},
    "vad_filter": {"vad_filter": True},
    "no temperature fallback": {"temperature": 0},
}


def engine_defaults():
    with open(os.path.join(ROOT, "schemas", "engine.schema.json"), encoding="utf-8") as handle:
        properties = json.load(handle)["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec and key not in ("type", "model")}


def transcribed(cache, recording, options):
    """(first-pass text, text after the coverage step, coverage retries) through the worker's own steps."""
    from faster_whisper.audio import decode_audio

    directory, _ = request_common.find_model(recording["model"], options)
    model, _, _ = cache.get(directory, options)
    audio = decode_audio(recording["media"], sampling_rate=SAMPLING_RATE)
    decoded = decoding.decode_options(options)
    info, heard = transcribe.first_pass(model, audio, decoded, options["batch_size"], lambda info: None, lambda record: None)
    segments, report = transcribe.covered(model, audio, heard, info, decoded)
    text = lambda segments: " ".join(segment["text"] for segment in segments)  # noqa: E731
    return text(heard), text(segments), len(report["retried"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--choice", action="append", default=[], help="NAME=JSON engine options over the defaults (default: " + "; ".join(f"{k}={json.dumps(v)}" for k, v in CHOICES.items()) + ")")
    parser.add_argument("--stems", help="only these recordings (comma-separated)")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    choices = {"defaults": {}, **(dict((c.split("=", 1)[0], json.loads(c.split("=", 1)[1])) for c in args.choice) if args.choice else CHOICES)}
    recordings = asr_accuracy.corpus_recordings(asr_accuracy.find_corpus(), None, set(args.stems.split(",")) if args.stems else None)
    defaults = engine_defaults()
    bare = asr_accuracy.bare(recordings, "default")
    cache = model_cache.ModelCache()
    rows = []
    for recording in recordings:
        language = recording["language"]
        row = {"stem": recording["stem"], "model": recording["model"], "reference_words": len(normalise(recording["text"], language))}
        row["bare"] = errors(recording["text"], bare[recording["stem"]]["text"], language)
        for name, overrides in choices.items():
            first, after, retried = transcribed(cache, recording, {**defaults, **overrides})
            row[name] = {"first": errors(recording["text"], first, language), "covered": errors(recording["text"], after, language), "retried": retried}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print_tables(rows, choices)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"choices": choices, "rows": rows}, file, indent=1)


def print_tables(rows, choices):
    words = sum(row["reference_words"] for row in rows)
    print("errors per recording: first pass (coverage retries off) / after the coverage step (retries); Δ = after, against the defaults")
    header = ["recording", "model", "text words", "bare"] + [f"{name}" for name in choices] + [f"Δ {name}" for name in choices if name != "defaults"]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for row in rows:
        cells = [row["stem"], row["model"], str(row["reference_words"]), str(row["bare"])]
        cells += [f"{row[name]['first']} / {row[name]['covered']}" + (f" ({row[name]['retried']} retried)" if row[name]["retried"] else "") for name in choices]
        cells += [f"{row[name]['covered'] - row['defaults']['covered']:+d}" for name in choices if name != "defaults"]
        print("| " + " | ".join(cells) + " |")
    pooled = lambda key: sum(key(row) for row in rows) / words  # noqa: E731
    cells = ["pooled WER", "", str(words), f"{pooled(lambda row: row['bare']):.4f}"]
    cells += [f"{pooled(lambda row, n=name: row[n]['first']):.4f} / {pooled(lambda row, n=name: row[n]['covered']):.4f}" for name in choices]
    cells += [", ".join(row["stem"] for row in rows if row[name]["covered"] - row["defaults"]["covered"] > 1) or "none worse by > 1" for name in choices if name != "defaults"]
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
