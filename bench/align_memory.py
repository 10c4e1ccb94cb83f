"""Benchmark: forced alignment (the worker's `align`, refine with a script) on long media, memory
bounded or not. Builds an MP3 of the given length from the two English corpus sonnets read one
after the other (bench/long_media.py), asks for the spans a script gives on it, and runs, one after
the other, each in a fresh process with tiny.en:

  - streamed: forced_align.align as the runner calls it, reading the media forward (sample_reader.py);
  - whole waveform: the media decoded whole (faster-whisper's decode_audio) and the same spans
    aligned on the array, as the worker did before sample_reader.py.

The spans: every tenth minute a span of two lines of a sonnet (as a script gap is), and one span of
ALL the words of LONG_SPAN_MIN minutes (the engine heard none of it), longer than the worker holds
at once (forced_align.ALIGN_WHOLE_SPAN_SEC). Prints each side's peak RSS (ru_maxrss) and the RSS once its
model is loaded, the ratio of the peaks, the wall times, and how many spans got the same times.

  .venv/bin/python bench/align_memory.py --minutes 120      # npm run bench:align-memory -- --minutes 120
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.join(HERE, "..", "core", "app", "engines", "faster_whisper")
sys.path.insert(0, ENGINE)
sys.path.insert(0, os.path.join(HERE, "..", "test", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "fixtures", "corpus_onsets"))

RATE = 16000
OPTIONS = {"allow_download": False, "device": "cpu", "compute_type": "int8", "cpu_threads": 0, "lanes": 1}
SONNETS = ("sonnet002", "sonnet003")
LONG_SPAN_MIN = 15.0
SHORT_SPAN_EVERY_MIN = 10.0


def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def words(text):
    return text.replace("’", "'").split()


def build(folder, minutes):
    """(media, spans): the MP3 and the align request's spans, timed from where long_media.py puts each sonnet."""
    import long_media
    from derive_onsets import find_corpus
    from faster_whisper.audio import decode_audio

    corpus = find_corpus()
    media = os.path.join(folder, f"long-{minutes:g}min.mp3")
    sources = [os.path.join(corpus, f"{name}.mp3") for name in SONNETS]
    long_media.build(media, minutes, sources)
    lengths = [decode_audio(source, sampling_rate=RATE).shape[0] / RATE + long_media.PAUSE_SEC for source in sources]
    lines = []
    for name in SONNETS:
        with open(os.path.join(HERE, "..", "test", "fixtures", "corpus_onsets", f"{name}.json"), encoding="utf-8") as file:
            lines.append(json.load(file)["lines"])
    placed, at, index = [], 0.0, 0  # (offset, lines) of each sonnet in the media, whole ones only
    while at + lengths[index % 2] <= minutes * 60:
        placed.append((at, lines[index % 2]))
        at += lengths[index % 2]
        index += 1
    spans, next_short = [], 0.0
    long_start = minutes * 60 / 2
    for offset, sonnet in placed:
        timed = [line for line in sonnet if line["onset"] is not None]
        if offset >= next_short and len(timed) >= 5:
            a, b, c = timed[2], timed[3], timed[4]
            spans.append({"start": offset + a["onset"], "end": offset + c["onset"], "words": words(a["text"] + " " + b["text"])})
            next_short = offset + SHORT_SPAN_EVERY_MIN * 60
    inside = [(offset, sonnet) for offset, sonnet in placed if long_start <= offset and offset + 60 <= long_start + LONG_SPAN_MIN * 60]
    if inside:
        spans.append({"start": inside[0][0], "end": inside[-1][0] + 58.0, "words": [word for _, sonnet in inside for line in sonnet for word in words(line["text"])]})
    spans.sort(key=lambda span: span["start"])
    return media, spans


def side(kind, media, spans_file):
    """Runs in a fresh process: one side's alignment, its results and its memory, as JSON on stdout."""
    import heap
    import stdout_channel
    import forced_align
    import model_cache
    import request_common

    heap.set_threshold(heap.USUAL_THRESHOLD_BYTES)  # as worker.py's main() does
    with open(spans_file, encoding="utf-8") as file:
        spans = json.load(file)
    cache = model_cache.ModelCache()
    directory, _ = request_common.find_model("tiny.en", OPTIONS)
    model, _, _ = cache.get(directory, OPTIONS)
    loaded = rss_mib()
    started = time.monotonic()
    if kind == "streamed":
        out = io.StringIO()
        forced_align.align(stdout_channel.Channel(out), cache, {"type": "align", "id": "bench", "media": media, "model": "tiny.en", "options": OPTIONS, "language": "en", "spans": spans})
        (reply,) = [json.loads(line) for line in out.getvalue().splitlines() if json.loads(line)["type"] == "aligned"]
        results = reply["spans"]
    else:
        from faster_whisper.audio import decode_audio
        from faster_whisper.tokenizer import Tokenizer
        from whole_waveform import WholeWaveform

        audio = WholeWaveform(decode_audio(media, sampling_rate=RATE))
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
        results = json.loads(json.dumps([forced_align.align_span(model, tokenizer, audio, span["start"], span["end"], span["words"]) for span in spans]))
    wall = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"loaded_mib": loaded, "peak_mib": peak, "wall_sec": wall, "results": results}, sys.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--side", choices=("streamed", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--media", help=argparse.SUPPRESS)
    parser.add_argument("--spans", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        return side(args.side, args.media, args.spans)

    os.environ["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory(prefix="sophia-bench-align-") as folder:
        print(f"building {args.minutes:g} min of speech (MP3, 16 kHz mono)…", flush=True)
        media, spans = build(folder, args.minutes)
        spans_file = os.path.join(folder, "spans.json")
        with open(spans_file, "w", encoding="utf-8") as file:
            json.dump(spans, file)
        longest = max(span["end"] - span["start"] for span in spans)
        print(f"{len(spans)} spans, {sum(len(span['words']) for span in spans)} words, the longest {longest / 60:.1f} min", flush=True)
        sides = {}
        for kind in ("streamed", "whole"):
            run = subprocess.run([sys.executable, __file__, "--side", kind, "--media", media, "--spans", spans_file], stdout=subprocess.PIPE, text=True, check=True)
            sides[kind] = json.loads(run.stdout)
            print(f"  {kind}: peak RSS {sides[kind]['peak_mib']:.0f} MiB (model loaded: {sides[kind]['loaded_mib']:.0f} MiB), {sides[kind]['wall_sec']:.0f} s", flush=True)
    streamed, whole = sides["streamed"], sides["whole"]
    same = sum(a == b for a, b in zip(streamed["results"], whole["results"]))
    shift = max((abs(x["start"] - y["start"]) for a, b in zip(streamed["results"], whole["results"]) if a and b for x, y in zip(a, b)), default=0.0)
    print(f"\n{args.minutes:g} min of audio, tiny.en, align of {len(spans)} spans")
    print(f"  streamed (sample_reader.py)   peak RSS {streamed['peak_mib']:6.0f} MiB   wall {streamed['wall_sec']:5.0f} s")
    print(f"  whole waveform (before)       peak RSS {whole['peak_mib']:6.0f} MiB   wall {whole['wall_sec']:5.0f} s")
    print(f"  peak ratio streamed / whole: {streamed['peak_mib'] / whole['peak_mib']:.2f}×; above the loaded model: {streamed['peak_mib'] - streamed['loaded_mib']:.0f} vs {whole['peak_mib'] - whole['loaded_mib']:.0f} MiB")
    print(f"  spans with the same times: {same} of {len(spans)}; largest word start difference {shift:.3f} s")
    print(f"  load average at the end (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(main())
