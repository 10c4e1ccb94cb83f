"""Per recording, the words of Sophia's default asr against bare faster-whisper's (and whisper-ctranslate2's).

    asr_accuracy.py [--max-sec S] [--stems a,b] [--engine-options JSON]... [--bare-compute-type T]
                    [--wct2 PROGRAM] [--json FILE]

Prints one JSON object (and writes it to --json): per recording, each side's text, errors against the
text that was read (test/support/word_errors.py: words, or characters for Chinese and Japanese), words
and seconds. The recordings are ../shared/corpus (or $SOPHIA_CORPUS): the four readings and the clips
of clips.tsv, each with tiny.en when English and base otherwise; no side is told the language.

- sophia: the real CLI, as a user runs it: `submit --model M --no-refine` for every recording, then one
  `run`; the words of the raw SRT; coverage and model_lanes from the asr summary. With --engine-options,
  one more Sophia side per JSON object (engine options over the defaults).
- bare: `WhisperModel(dir).transcribe(media, beam_size=5)` with faster-whisper's own defaults (compute
  type "default": the model's saved float16 as float32 on a CPU), each model loaded once.
- wct2: `whisper-ctranslate2` (its command line's defaults), one process per recording, when --wct2 names it.

bench/accuracy.py prints it as a table (npm run bench:accuracy); test/integration/accuracy.test.ts
holds the short clips to the rule of spec §4.1: per recording, at most one error more than bare.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "core", "app", "engines", "faster_whisper"))

from word_errors import errors, normalise  # noqa: E402

CLI = os.path.join(ROOT, "bin", "sophia-cli")
READINGS = [("sonnet002", "en", "mp3"), ("sonnet003", "en", "mp3"), ("reading_de", "de", "mp3"), ("reading_es", "es", "mp3")]
MEDIA_EXTENSIONS = ("wav", "mp3", "m4a", "flac", "ogg")


def find_corpus():
    """$SOPHIA_CORPUS, else the first shared/corpus in a folder above the checkout (CI clones elsewhere)."""
    if os.environ.get("SOPHIA_CORPUS"):
        return os.environ["SOPHIA_CORPUS"]
    here = ROOT
    while os.path.dirname(here) != here:
        here = os.path.dirname(here)
        if os.path.isdir(os.path.join(here, "shared", "corpus")):
            return os.path.join(here, "shared", "corpus")
    raise SystemExit("no shared/corpus found above the project: set SOPHIA_CORPUS")


def model_for(language):
    return "tiny.en" if language == "en" else "base"


def corpus_recordings(corpus, max_sec=None, stems=None):
    """[{stem, language, model, media, text, duration_sec}]: the readings, then clips.tsv's clips."""
    from faster_whisper.audio import decode_audio

    listed = [(stem, language) for stem, language, _ in READINGS]
    with open(os.path.join(corpus, "clips.tsv"), encoding="utf-8") as file:
        listed += [(row["stem"], row["language"]) for row in csv.DictReader(file, delimiter="\t")]
    result = []
    for stem, language in listed:
        if stems is not None and stem not in stems:
            continue
        media = next(os.path.join(corpus, f"{stem}.{ext}") for ext in MEDIA_EXTENSIONS if os.path.isfile(os.path.join(corpus, f"{stem}.{ext}")))
        duration = decode_audio(media).shape[0] / 16000
        if max_sec is not None and duration >= max_sec:
            continue
        with open(os.path.join(corpus, stem + ".txt"), encoding="utf-8") as file:
            text = file.read()
        result.append({"stem": stem, "language": language, "model": model_for(language), "media": media, "text": text, "duration_sec": duration})
    return result


def bare(recordings, compute_type):
    """{stem: {text, sec}}: faster-whisper as a script calls it, each model loaded once."""
    import models
    from faster_whisper import WhisperModel

    result = {}
    for name in dict.fromkeys(recording["model"] for recording in recordings):
        directory, _ = models.resolve_model(name, False)
        model = WhisperModel(directory, compute_type=compute_type, local_files_only=True)
        for recording in (r for r in recordings if r["model"] == name):
            started = time.monotonic()
            segments, _ = model.transcribe(recording["media"], beam_size=5)
            text = " ".join(segment.text.strip() for segment in segments)
            result[recording["stem"]] = {"text": text, "sec": time.monotonic() - started}
    return result


def srt_text(srt):
    """The words of an SRT's cues: no numbers, no timings."""
    lines = [line.strip() for line in srt.splitlines()]
    return " ".join(line for line in lines if line and not line.isdigit() and "-->" not in line)


def sophia(recordings, engine_options, env):
    """{stem: {text, sec, coverage_pct, retried, lanes}}: submit every recording, then one `run` of the CLI."""
    with tempfile.TemporaryDirectory(prefix="sophia-accuracy-") as directory:
        workspace = os.path.join(directory, "workspace")

        def cli(*args):
            done = subprocess.run(["node", CLI, "--workspace", workspace, *args], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"sophia-cli {' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return done.stdout

        for recording in recordings:
            submit = ["submit", recording["media"], "--model", recording["model"], "--no-refine", "--id", recording["stem"]]
            if engine_options:
                submit += ["--engine-options", json.dumps(engine_options)]
            cli(*submit)
        cli("run", "--no-progress")
        result = {}
        for recording in recordings:
            stem = recording["stem"]
            task = json.loads(cli("--json", "show", stem))["task"]
            events = [json.loads(line) for line in cli("--json", "events", "--task", stem).splitlines()]
            completed = next(e["payload"] for e in events if e["type"] == "stage.completed" and e["payload"]["stage"] == "asr")
            summary = completed["summary"]
            raw = task["output"]["raw_srt"]
            path = raw if os.path.isabs(raw) else os.path.join(directory, raw)
            with open(path, encoding="utf-8") as file:
                text = srt_text(file.read())
            coverage = summary["coverage"] or {}
            result[stem] = {
                "text": text,
                "sec": completed["duration_sec"],
                "coverage_pct": coverage.get("speech_with_words_pct"),
                "retried": len(coverage.get("retried", [])),
                "lanes": summary.get("model_lanes"),
            }
        return result


def wct2(recordings, program, env):
    """{stem: {text, sec}}: whisper-ctranslate2's command line, its defaults, the same model directory."""
    import models

    result = {}
    for recording in recordings:
        directory, _ = models.resolve_model(recording["model"], False)
        with tempfile.TemporaryDirectory(prefix="sophia-accuracy-wct2-") as output:
            started = time.monotonic()
            argv = [program, "--model_directory", directory, "--local_files_only", "True", "--output_format", "srt", "--output_dir", output, recording["media"]]
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"whisper-ctranslate2 failed on {recording['media']}:\n{done.stderr[-2000:]}")
            stem = os.path.splitext(os.path.basename(recording["media"]))[0]
            with open(os.path.join(output, stem + ".srt"), encoding="utf-8") as file:
                result[recording["stem"]] = {"text": srt_text(file.read()), "sec": time.monotonic() - started}
    return result


def scored(recording, side):
    language = recording["language"]
    return {**side, "errors": errors(recording["text"], side["text"], language), "words": len(normalise(side["text"], language))}


def measure(recordings, sides):
    """{"recordings": [{stem, language, model, duration_sec, reference_words, sides: {name: scored side}}]}."""
    rows = []
    for recording in recordings:
        row = {key: recording[key] for key in ("stem", "language", "model", "duration_sec")}
        row["reference_words"] = len(normalise(recording["text"], recording["language"]))
        row["sides"] = {name: scored(recording, results[recording["stem"]]) for name, results in sides.items()}
        rows.append(row)
    return {"recordings": rows}


def side_name(engine_options):
    return "sophia" + (" " + json.dumps(engine_options, separators=(",", ":")) if engine_options else "")


def add_arguments(parser):
    parser.add_argument("--max-sec", type=float, help="only recordings shorter than this")
    parser.add_argument("--stems", help="only these recordings (comma-separated)")
    parser.add_argument("--engine-options", action="append", default=[], help="one more Sophia side: engine options over the defaults (JSON)")
    parser.add_argument("--bare-compute-type", action="append", default=[], help="bare faster-whisper's compute type (repeatable; default: faster-whisper's own, \"default\")")
    parser.add_argument("--wct2", help="whisper-ctranslate2's program, to compare with it too")
    parser.add_argument("--json", help="also write the result to this file")


def run(args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    os.environ["HF_HUB_OFFLINE"] = "1"
    recordings = corpus_recordings(find_corpus(), args.max_sec, set(args.stems.split(",")) if args.stems else None)
    sides = {"sophia": sophia(recordings, {}, env)}
    for options in args.engine_options:
        sides[side_name(json.loads(options))] = sophia(recordings, json.loads(options), env)
    for compute_type in args.bare_compute_type or ["default"]:
        sides["bare" if compute_type == "default" else f"bare {compute_type}"] = bare(recordings, compute_type)
    if args.wct2:
        sides["wct2"] = wct2(recordings, args.wct2, env)
    result = measure(recordings, sides)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(result, file, ensure_ascii=False, indent=1)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False))


if __name__ == "__main__":
    main()
