"""Per recording, Sophia's default asr against bare faster-whisper (and whisper-ctranslate2): the words first.

    npm run build && npm run bench:accuracy -- [--stems a,b] [--max-sec S] [--engine-options JSON]...
                                               [--bare-compute-type T]... [--json FILE]

Every corpus recording (the four readings and the clips of clips.tsv; English with tiny.en, the rest
with base, no side told the language) through Sophia's real CLI (`submit --no-refine`, then `run`),
bare faster-whisper with its own defaults (`WhisperModel(dir).transcribe(media, beam_size=5)`) and,
when installed, whisper-ctranslate2 with its command line's defaults (`$WHISPER_CTRANSLATE2` or on
PATH; its own venv: python3 -m venv /tmp/wct2 && /tmp/wct2/bin/pip install whisper-ctranslate2).
test/support/asr_accuracy.py does the work; this prints its table: per side errors (WER), words,
seconds; Sophia's speech coverage and lanes; and Sophia's errors over bare's, which the rule of
spec §4.1 holds to at most 1 per recording. Chinese and Japanese count characters, not words.
Times are each side's wall time on a shared machine: a rough guide, bench:asr measures speed.
"""

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "support"))

import asr_accuracy  # noqa: E402

MAX_EXTRA_ERRORS = 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    asr_accuracy.add_arguments(parser)
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(asr_accuracy.ROOT, "dist", "core", "app", "cli", "main.js")):
        raise SystemExit("dist/ is missing: npm run build first")
    if args.wct2 is None:
        found = os.environ.get("WHISPER_CTRANSLATE2") or shutil.which("whisper-ctranslate2")
        args.wct2 = os.path.abspath(found) if found else None
        if not found:
            print("whisper-ctranslate2 not found ($WHISPER_CTRANSLATE2 or PATH): its column is left out", file=sys.stderr)
    print_table(asr_accuracy.run(args))


def print_table(result):
    rows = result["recordings"]
    sides = list(rows[0]["sides"])
    sophias = [name for name in sides if name.startswith("sophia")]
    print("errors (WER) | words | seconds per side; Chinese and Japanese in characters; Δ = Sophia's errors − bare's (rule: ≤ 1)")
    header = ["recording", "model", "s", "text words"] + [f"{name} errors (WER)" for name in sides] + [f"{name} words" for name in sides] + [f"{name} s" for name in sides]
    header += [f"{name} cov % / lanes" for name in sophias] + [f"Δ {name}" for name in sophias]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for row in rows:
        reference = row["reference_words"]
        cells = [row["stem"], row["model"], f"{row['duration_sec']:.0f}", str(reference)]
        cells += [f"{side['errors']} ({side['errors'] / max(1, reference):.3f})" for side in row["sides"].values()]
        cells += [str(side["words"]) for side in row["sides"].values()]
        cells += [f"{side['sec']:.1f}" for side in row["sides"].values()]
        cells += [f"{row['sides'][name]['coverage_pct']} / {row['sides'][name]['lanes']}" for name in sophias]
        cells += [delta(row, name) for name in sophias]
        print("| " + " | ".join(cells) + " |")
    words = sum(row["reference_words"] for row in rows)
    print("\npooled WER (all errors over all reference words):")
    for name in sides:
        print(f"  {name:<40} {sum(row['sides'][name]['errors'] for row in rows) / words:.4f}   worse than bare by more than {MAX_EXTRA_ERRORS}: " + (", ".join(row["stem"] for row in rows if excess(row, name) > MAX_EXTRA_ERRORS) or "none"))


def excess(row, name):
    return row["sides"][name]["errors"] - row["sides"]["bare"]["errors"] if "bare" in row["sides"] else 0


def delta(row, name):
    value = excess(row, name)
    return f"{value:+d}" + (" **" if value > MAX_EXTRA_ERRORS else "")


if __name__ == "__main__":
    main()
