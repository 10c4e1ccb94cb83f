"""How faithfully asr turns speech into words, per decoding choice, measured side by side in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/asr_fidelity.py [--english-base] [--json FILE]

Recordings: the four human readings in ../shared/corpus (or $SOPHIA_CORPUS), English with
tiny.en and German/Spanish with base (--english-base: English with base too), and espeak-ng speech
(three paragraphs with 4 s of silence between them, tiny.en). For each decoding choice and each
recording it prints:
  cov%   VAD speech with words, as speech_coverage.py counts it (no uncovered stretch >= 1 s)
  WER    word error rate against the text (case, punctuation and apostrophes normalised; numbers
         up to twenty and Roman numerals II..XX read as words). Raw: the texts' old spellings
         ("tatter'd") count as errors for every choice alike
  RTF    processing seconds per media second
first for the choice's own decode, then after Sophia's coverage step (speech_coverage.complete:
repair word times, transcribe uncovered speech again). "bare" is faster-whisper's transcribe()
with its defaults; "sophia" is Sophia's engine defaults (schemas/engine.schema.json, what the runner
sends the worker). Every model is loaded once up front.
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "core", "app", "engines", "faster_whisper"))
sys.path.insert(0, os.path.join(ROOT, "test", "support"))

import espeak_audio  # noqa: E402
import speech_coverage  # noqa: E402
import decoding  # noqa: E402
import request_common  # noqa: E402
import transcribe  # noqa: E402
from asr_accuracy import find_corpus  # noqa: E402
from audio_time import SAMPLING_RATE  # noqa: E402
from word_errors import normalise, wer  # noqa: E402, F401  (bench/asr_throughput.py takes them from here)

CORPUS = find_corpus()
READINGS = [("sonnet002", "en"), ("sonnet003", "en"), ("reading_de", "de"), ("reading_es", "es")]
ESPEAK_PARAGRAPHS = [
    "The committee met on Tuesday to review the budget for the coming year. Most of the discussion "
    "was about the new library, which has been delayed twice because of the weather.",
    "After a short break, the engineers presented their plan for the bridge. They expect the work "
    "to take eighteen months, and the road will stay open during the day.",
    "Finally, the chair thanked everyone for coming and asked for written comments by the end of "
    "the month. The next meeting will be held in the town hall.",
]
ESPEAK_SILENCE_SEC = 4.0

# Decoding choices: faster-whisper transcribe() arguments over its own defaults.
CHOICES = {
    "bare": {},
    "cond_off": {"condition_on_previous_text": False},
    "vad": {"vad_filter": True},
    "cond_off+vad": {"condition_on_previous_text": False, "vad_filter": True},
    "hst2": {"hallucination_silence_threshold": 2.0},
    "cond_off+hst2": {"condition_on_previous_text": False, "hallucination_silence_threshold": 2.0},
    "batched": "batched",
    "sophia": "sophia",
}

def espeak_recording(directory):
    """espeak-ng paragraphs with silence between them: (audio, text)."""
    audio, _ = espeak_audio.spoken(directory, ESPEAK_PARAGRAPHS, ESPEAK_SILENCE_SEC)
    return audio, " ".join(ESPEAK_PARAGRAPHS)


def words_text(segments):
    return " ".join(word["text"] for segment in segments for word in segment["words"])


def coverage_pct(audio, segments, duration):
    regions = speech_coverage.speech_regions(audio, SAMPLING_RATE)
    return speech_coverage.report(regions, [], speech_coverage.uncovered_spans(regions, speech_coverage.all_words(segments)), {})["speech_with_words_pct"]


def engine_defaults():
    """Every engine option with its default, as published from options.ts: the worker itself keeps none."""
    with open(os.path.join(ROOT, "schemas", "engine.schema.json"), encoding="utf-8") as handle:
        properties = json.load(handle)["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def run_choice(models, name, choice, audio, language):
    """(first pass, after coverage): each {cov, wer_text, rtf}."""
    model = models[name]
    options = {**engine_defaults(), "language": language}
    if choice == "batched":
        from faster_whisper import BatchedInferencePipeline

        decoding = {"language": language, "word_timestamps": True}
        transcribe = BatchedInferencePipeline(model).transcribe
        decoding_for_retry = decoding.decode_options(options)
    elif choice == "sophia":
        decoding = decoding.decode_options(options)
        transcribe = lambda audio, **decoding: decoding.start_decoding(model, audio, decoding, options["batch_size"])  # noqa: E731
        decoding_for_retry = decoding
    else:
        decoding = {"language": language, "word_timestamps": True, **choice}
        transcribe = model.transcribe
        decoding_for_retry = decoding
    started = time.monotonic()
    segments, info = transcribe(audio, **decoding)
    heard = [transcribe.segment_record(segment, float(info.duration), info.language, decoding_for_retry) for segment in segments]
    first_sec = time.monotonic() - started
    started = time.monotonic()
    completed, _ = transcribe.covered(model, audio, heard, info, decoding_for_retry)
    cover_sec = time.monotonic() - started
    duration = float(info.duration)
    return (
        {"cov": coverage_pct(audio, heard, duration), "text": words_text(heard), "rtf": first_sec / duration},
        {"cov": coverage_pct(audio, completed, duration), "text": words_text(completed), "rtf": (first_sec + cover_sec) / duration},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--english-base", action="store_true", help="also transcribe the English readings with base")
    parser.add_argument("--choices", default=",".join(CHOICES), help="comma-separated subset of " + ", ".join(CHOICES))
    parser.add_argument("--recordings", help="comma-separated subset of " + ", ".join([stem for stem, _ in READINGS] + ["espeak"]))
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as markdown (as in spec §4.1)")
    args = parser.parse_args()
    from faster_whisper.audio import decode_audio
    from faster_whisper import WhisperModel

    wanted = set(args.recordings.split(",")) if args.recordings else None
    recordings = []
    for stem, language in READINGS:
        if wanted is not None and stem not in wanted:
            continue
        with open(os.path.join(CORPUS, stem + ".txt"), encoding="utf-8") as file:
            text = file.read()
        audio = decode_audio(os.path.join(CORPUS, stem + ".mp3"), sampling_rate=SAMPLING_RATE)
        recordings.append((stem, language, "tiny.en" if language == "en" else "base", audio, text))
        if language == "en" and args.english_base:
            recordings.append((stem, language, "base", audio, text))
    if wanted is None or "espeak" in wanted:
        with tempfile.TemporaryDirectory() as directory:
            audio, text = espeak_recording(directory)
        recordings.append(("espeak", "en", "tiny.en", audio, text))

    models = {}
    for name in sorted({recording[2] for recording in recordings}):
        directory, _ = request_common.find_model(name, {"allow_download": False})
        models[name] = WhisperModel(directory, device="cpu", compute_type="int8", local_files_only=True)

    chosen = [name for name in args.choices.split(",") if name]
    results = []
    header = f"{'recording':<18} {'choice':<14} {'cov%':>6} {'WER':>6} {'RTF':>6}   {'+cov: cov%':>10} {'WER':>6} {'RTF':>6}"
    print(header)
    for stem, language, model_name, audio, text in recordings:
        for choice_name in chosen:
            first, after = run_choice(models, model_name, CHOICES[choice_name], audio, language)
            row = {"recording": stem, "model": model_name, "choice": choice_name}
            for label, figures in (("first", first), ("covered", after)):
                row[label] = {"speech_with_words_pct": figures["cov"], "wer": round(wer(text, figures["text"]), 4), "rtf": round(figures["rtf"], 4)}
            results.append(row)
            f, c = row["first"], row["covered"]
            print(f"{stem + ' ' + model_name:<18} {choice_name:<14} {f['speech_with_words_pct']:6.1f} {f['wer']:6.3f} {f['rtf']:6.3f}   {c['speech_with_words_pct']:10.1f} {c['wer']:6.3f} {c['rtf']:6.3f}", flush=True)
    print_means(results, chosen)
    if args.markdown:
        print_markdown(results, chosen)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=1)


def print_means(results, chosen):
    print("\nmean over the human readings above (min cov% in brackets): first pass, then +cov")
    for choice_name in chosen:
        rows = [row for row in results if row["choice"] == choice_name and row["recording"] != "espeak"]
        if not rows:
            continue
        parts = []
        for label in ("first", "covered"):
            cov = [row[label]["speech_with_words_pct"] for row in rows]
            mean = lambda key: sum(row[label][key] for row in rows) / len(rows)  # noqa: E731
            parts.append(f"{sum(cov) / len(cov):6.1f} ({min(cov):5.1f}) {mean('wer'):6.3f} {mean('rtf'):6.3f}")
        print(f"{choice_name:<14} {parts[0]}   +cov {parts[1]}")


def print_markdown(results, chosen):
    runs = list(dict.fromkeys((row["recording"], row["model"]) for row in results))
    print("\nWER of the first pass (% of VAD speech with words where below 100), then the means over the human readings")
    print("| choice | " + " | ".join(f"{stem} {model}" for stem, model in runs) + " | mean WER | mean WER +cov | mean RTF +cov |")
    print("|---" * (len(runs) + 4) + "|")
    for choice_name in chosen:
        cells = []
        for run in runs:
            row = next(row for row in results if (row["recording"], row["model"]) == run and row["choice"] == choice_name)
            cov = row["first"]["speech_with_words_pct"]
            cells.append(f"{row['first']['wer']:.3f}" + ("" if cov >= 100 else f" ({cov:.1f} %)"))
        human = [row for row in results if row["choice"] == choice_name and row["recording"] != "espeak"]
        mean = lambda label, key: sum(row[label][key] for row in human) / max(1, len(human))  # noqa: E731
        print(f"| {choice_name} | " + " | ".join(cells) + f" | {mean('first', 'wer'):.3f} | {mean('covered', 'wer'):.3f} | {mean('covered', 'rtf'):.2f} |")


if __name__ == "__main__":
    main()
