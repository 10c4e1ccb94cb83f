"""Sophia's asr on a CUDA GPU: sequential against batched decoding, side by side in one run.

    npm run bench:asr-gpu -- [--rounds 3] [--files sonnet002,espeak] [--compute-type float16] [--batch-sizes 8,16] [--json FILE]

Runs only where CTranslate2 sees a CUDA device (ctranslate2.get_cuda_device_count() > 0); anywhere
else it prints that it skipped, and why, and exits 0. On a GPU, for each recording of
bench/asr_throughput.py (the corpus readings and ten minutes of espeak-ng speech), Sophia's engine
worker with its model loaded transcribes with `device: "cuda"` and `compute_type`, first with
`batch_size: 1` (sequential, the default), then with each batch size (`vad_filter: true`, which
batching needs), alternating; and whisper-ctranslate2's defaults with `--device cuda` when it is
installed ($WHISPER_CTRANSLATE2 or PATH). It prints wall time, WER and words per run and a table of
medians, and writes every figure as JSON (--json, else asr_gpu-<UTC time>.json in the current
folder): the record of what this GPU measured.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from asr_throughput import WarmSophia, WarmWct2, scored, speech_to_measure, uptime
import models  # noqa: E402  (asr_throughput put the worker's folder on sys.path)


def cuda_devices():
    import ctranslate2

    try:
        return ctranslate2.get_cuda_device_count()
    except RuntimeError:  # a CTranslate2 built without CUDA
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--files", default="sonnet002,sonnet003,reading_de,reading_es,espeak")
    parser.add_argument("--compute-type", default="float16")
    parser.add_argument("--batch-sizes", default="8,16")
    parser.add_argument("--json")
    args = parser.parse_args()
    devices = cuda_devices()
    if devices == 0:
        print("asr_gpu: skipped: no CUDA device here (ctranslate2.get_cuda_device_count() = 0); nothing was measured")
        return 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    device = {"device": "cuda", "compute_type": args.compute_type}
    choices = {"sophia batch 1": device, **{f"sophia batch {size}": {**device, "batch_size": int(size), "vad_filter": True} for size in args.batch_sizes.split(",")}}
    wct2 = os.environ.get("WHISPER_CTRANSLATE2") or shutil.which("whisper-ctranslate2")
    print(f"CUDA devices {devices}; compute_type {args.compute_type}; whisper-ctranslate2 {wct2 or 'not found (not compared)'}; {uptime()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sophia-bench-gpu-") as directory:
        warmup, by_model = speech_to_measure(args.files.split(","), directory)
        for model, files in by_model.items():
            sides = {name: WarmSophia(model, options, env, warmup) for name, options in choices.items()}
            if wct2:
                model_dir, _ = models.resolve_model(model, False)
                sides["wct2 --device cuda"] = WarmWct2(os.path.abspath(wct2), model_dir, ["--device", "cuda"], env, warmup)
            try:
                for stem, _, media, text in files:
                    for round_index in range(args.rounds):
                        names = list(sides) if round_index % 2 == 0 else list(reversed(sides))
                        for name in names:
                            result = sides[name].run(media)
                            result.update(scored(text, result.pop("text")))
                            rows.append({"recording": stem, "model": model, "choice": name, "round": round_index + 1, **result})
                            print(f"  {stem} {model} {name:<20} wall {result['wall_sec']:6.2f} s  WER {result['wer']:.3f}  words {result['words']}", flush=True)
            finally:
                for side in sides.values():
                    side.close()
    print("\n| recording | model | " + " | ".join(f"{name} wall s / WER" for name in sides) + " |")
    print("|---|---|" + "---|" * len(sides))
    for stem, model in dict.fromkeys((row["recording"], row["model"]) for row in rows):
        cells = []
        for name in sides:
            mine = [row for row in rows if (row["recording"], row["model"], row["choice"]) == (stem, model, name)]
            cells.append(f"{statistics.median(row['wall_sec'] for row in mine):.2f} / {statistics.median(row['wer'] for row in mine):.3f}")
        print(f"| {stem} | {model} | " + " | ".join(cells) + " |")
    path = args.json or f"asr_gpu-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"cuda_devices": devices, "compute_type": args.compute_type, "choices": choices, "rows": rows}, file, indent=1)
    print(f"recorded in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
