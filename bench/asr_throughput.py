"""Sophia's asr against whisper-ctranslate2's defaults and bare faster-whisper: same file, same model, side by side in one run.

    npm run build && npm run bench:asr -- [--cold] [--rounds 3] [--files sonnet002,espeak] [--engine-options JSON]... [--json FILE]

Each file is transcribed by both, alternating (Sophia first, the next round whisper-ctranslate2
first), so the load of a shared machine falls on both alike. Two ways, with the model load treated
the same for both:
  warm (default): each side's own long-lived process with its model loaded before timing starts,
           as a runner keeps its worker between tasks. Sophia: the engine's worker
           (core/app/engines/faster_whisper/worker.py, what the asr stage calls: word timestamps,
           the speech coverage check), sent its transcribe request over its protocol with every
           engine option at its published default (schemas/engine.schema.json), or those
           defaults with each --engine-options (repeat it to compare candidates in one run).
           whisper-ctranslate2: bench/wct2_server.py in its own venv, its Transcribe class and writers with every option at its command line's default (compute_type auto,
           beam 5, the temperature fallback, condition_on_previous_text, no word timestamps, no VAD).
  --cold:  the two CLIs, one process per file, each loading its model: `sophia-cli run --task <id>
           --no-progress` after an untimed `submit --model M --no-refine`, against
           `whisper-ctranslate2 --model_directory D --local_files_only True --output_dir T <media>`.
           This adds each one's start-up: Node, the preflight and the worker's imports for Sophia.
bare: faster-whisper alone as a script calls it, `WhisperModel(dir).transcribe(media, beam_size=5)`
with its own defaults (compute type "default": float32 for these float16 models on a CPU), in
this process with the model loaded (warm) or a process per file (cold): the floor for words, so
each speed-up is printed beside the errors Sophia makes over bare's.
All use the same model directory (Sophia's resolution of the name). Timed: wall time and CPU time
(the worker's or server's /proc stat, warm; the process and its children, cold). WER is of each
one's segment (SRT cue) text against the text that was read, with one normaliser for both
(bench/asr_fidelity.py's); `words` counts the normalised words.

Recordings: the four corpus readings (English with tiny.en, German and Spanish with base) and about
ten minutes of espeak-ng speech of varied sentences (bench/meeting_text.ts, tiny.en). Languages are
not given to either: base detects them.

whisper-ctranslate2 is a reference, never a dependency: `$WHISPER_CTRANSLATE2` (its script; its
Python is the one beside it) or the first `whisper-ctranslate2` on PATH, installed in a venv of its
own (python3 -m venv /tmp/wct2 && /tmp/wct2/bin/pip install whisper-ctranslate2).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from asr_fidelity import CORPUS, ROOT, engine_defaults, normalise, wer  # also puts the worker's folder on sys.path
from word_errors import errors  # noqa: E402
import models  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.path.join(ROOT, "bin", "sophia-cli")
WORKER = os.path.join(ROOT, "core", "app", "engines", "faster_whisper", "worker.py")
READINGS = [("sonnet002", "tiny.en"), ("sonnet003", "tiny.en"), ("reading_de", "base"), ("reading_es", "base")]
# About ten minutes at espeak-ng's 160 words a minute; seeded, so every run speaks the same words.
ESPEAK_SENTENCES = 110
ESPEAK_SEED = 11
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def uptime():
    with open("/proc/loadavg", encoding="utf-8") as file:
        return "load average " + ", ".join(file.read().split()[:3])


def process_cpu(pid):
    """CPU seconds (user + system, every thread) a live process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_cpu():
    """CPU seconds of every child reaped so far (and the children they reaped)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def srt_text(srt):
    """The words of an SRT's cues: no numbers, no timings."""
    lines = [line.strip() for line in srt.splitlines()]
    return " ".join(line for line in lines if line and not line.isdigit() and "-->" not in line)


def espeak_recording(directory):
    """(media, text): the seeded meeting sentences of bench/meeting_text.ts, spoken by espeak-ng."""
    script = f"const m = await import('./bench/meeting_text.ts'); process.stdout.write(m.meetingSentences({ESPEAK_SENTENCES}, m.seeded({ESPEAK_SEED})).join(' '));"
    text = subprocess.run(["node", "--import", "tsx", "--input-type=module", "--eval", script], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    text_path, media = os.path.join(directory, "espeak.txt"), os.path.join(directory, "espeak.wav")
    with open(text_path, "w", encoding="utf-8") as file:
        file.write(text)
    subprocess.run(["espeak-ng", "-s", "160", "-w", media, "-f", text_path], check=True)
    return media, text


def recordings(names, directory):
    result = []
    for stem, model in READINGS:
        if stem in names:
            with open(os.path.join(CORPUS, stem + ".txt"), encoding="utf-8") as file:
                result.append((stem, model, os.path.join(CORPUS, stem + ".mp3"), file.read()))
    if "espeak" in names:
        media, text = espeak_recording(directory)
        result.append(("espeak", "tiny.en", media, text))
    return result


def speech_to_measure(names, directory):
    """(a short warm-up file that loads a model, [(stem, model, media, text)] by model): what every bench here transcribes."""
    warmup = os.path.join(directory, "warmup.wav")
    subprocess.run(["espeak-ng", "-w", warmup, "Loading the model first."], check=True)
    files = recordings(names, directory)
    return warmup, {model: [entry for entry in files if entry[1] == model] for model in dict.fromkeys(entry[1] for entry in files)}


def find_wct2():
    found = os.environ.get("WHISPER_CTRANSLATE2") or shutil.which("whisper-ctranslate2")
    if not found:
        raise SystemExit("whisper-ctranslate2 not found: set $WHISPER_CTRANSLATE2 or put it on PATH (a venv outside the repo: python3 -m venv /tmp/wct2 && /tmp/wct2/bin/pip install whisper-ctranslate2)")
    return os.path.abspath(found)


def sophia_options(overrides):
    return {**engine_defaults(), **overrides}


class WarmSophia:
    """Sophia's engine worker, its model loaded by a first request, then timed per request."""

    def __init__(self, model, overrides, env, warmup):
        self.model, self.options = model, sophia_options(overrides)
        self.child = subprocess.Popen([sys.executable, WORKER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.ids = 0
        assert json.loads(self.child.stdout.readline())["type"] == "ready"
        self.load_sec = self.request(warmup)["load_sec"]

    def request(self, media):
        self.ids += 1
        rid = str(self.ids)
        self.child.stdin.write(json.dumps({"type": "transcribe", "id": rid, "media": media, "model": self.model, "options": self.options}) + "\n")
        self.child.stdin.flush()
        result = {"segments": []}
        while True:
            message = json.loads(self.child.stdout.readline())
            if message["type"] == "error":
                raise SystemExit(f"Sophia's worker failed on {media}: {message['code']}: {message['message']}")
            if message["type"] == "model":
                result.update(load_sec=message["load_sec"], model_path=message["path"])
            elif message["type"] == "segment":
                result["segments"].append(message["text"])
            elif message["type"] == "done":
                result["coverage"] = message["coverage"]
                return result

    def run(self, media):
        cpu, wall = process_cpu(self.child.pid), time.monotonic()
        result = self.request(media)
        wall, cpu = time.monotonic() - wall, process_cpu(self.child.pid) - cpu
        coverage = result["coverage"]
        return {"wall_sec": wall, "cpu_sec": cpu, "text": " ".join(result["segments"]), "model_path": result["model_path"], "coverage_pct": coverage["speech_with_words_pct"], "retried": len(coverage["retried"])}

    def close(self):
        self.child.stdin.close()
        self.child.wait()


class WarmWct2:
    """whisper-ctranslate2's own classes in its own Python (bench/wct2_server.py), model loaded by a first file."""

    def __init__(self, program, model_dir, extra, env, warmup):
        python = os.path.join(os.path.dirname(program), "python")
        self.child = subprocess.Popen([python, os.path.join(HERE, "wct2_server.py"), "--model_directory", model_dir, "--local_files_only", "True", *extra], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.load_sec = self.request(warmup)["load_sec"]

    def request(self, media):
        self.child.stdin.write(media + "\n")
        self.child.stdin.flush()
        line = self.child.stdout.readline()
        if not line:
            raise SystemExit(f"bench/wct2_server.py ended without answering for {media} (run it by hand to see why)")
        return json.loads(line)

    def run(self, media):
        cpu, wall = process_cpu(self.child.pid), time.monotonic()
        answer = self.request(media)
        wall, cpu = time.monotonic() - wall, process_cpu(self.child.pid) - cpu
        return {"wall_sec": wall, "cpu_sec": cpu, "text": srt_text(answer["srt"])}

    def close(self):
        self.child.stdin.close()
        self.child.wait()


class WarmBare:
    """faster-whisper alone in this process, as a script calls it: WhisperModel(dir) with its own
    defaults (compute type "default"), transcribe(media, beam_size=5); model loaded by a first file."""

    def __init__(self, model_dir, warmup):
        from faster_whisper import WhisperModel

        started = time.monotonic()
        self.model = WhisperModel(model_dir, local_files_only=True)
        self.load_sec = time.monotonic() - started
        self.run(warmup)

    def run(self, media):
        cpu, wall = time.process_time(), time.monotonic()
        segments, _ = self.model.transcribe(media, beam_size=5)
        text = " ".join(segment.text.strip() for segment in segments)
        return {"wall_sec": time.monotonic() - wall, "cpu_sec": time.process_time() - cpu, "text": text}

    def close(self):
        self.model = None


BARE_PROGRAM = """
import sys
from faster_whisper import WhisperModel
segments, _ = WhisperModel(sys.argv[2], local_files_only=True).transcribe(sys.argv[1], beam_size=5)
print(" ".join(segment.text.strip() for segment in segments))
"""


class ColdBare:
    """The same in a process of its own per file, loading the model."""

    def __init__(self, model_dir, env):
        self.model_dir, self.env, self.load_sec = model_dir, env, None

    def run(self, media):
        wall, cpu, stdout = timed_cli([sys.executable, "-c", BARE_PROGRAM, media, self.model_dir], self.env)
        return {"wall_sec": wall, "cpu_sec": cpu, "text": stdout}

    def close(self):
        pass


def timed_cli(argv, env):
    """(wall sec, cpu sec of it and its reaped children, stdout); a failure stops the bench."""
    cpu, wall = children_cpu(), time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall, cpu = time.monotonic() - wall, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])}… failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, cpu, done.stdout


class ColdSophia:
    def __init__(self, model, overrides, env, workspace):
        self.model, self.overrides, self.env, self.workspace, self.load_sec = model, overrides, env, workspace, None

    def cli(self, *args):
        return ["node", CLI, "--workspace", self.workspace, *args]

    def run(self, media):
        submit = ["submit", media, "--model", self.model, "--no-refine"]
        if self.overrides:
            submit += ["--engine-options", json.dumps(self.overrides)]
        task_id = subprocess.run(self.cli(*submit), env=self.env, check=True, capture_output=True, text=True).stdout.strip()
        wall, cpu, stdout = timed_cli(self.cli("run", "--task", task_id, "--no-progress"), self.env)
        srt = next(line for line in stdout.splitlines() if line.endswith(".raw.srt"))
        events = subprocess.run(self.cli("--json", "events", "--task", task_id), env=self.env, check=True, capture_output=True, text=True).stdout
        summary = next(event["payload"]["summary"] for event in map(json.loads, events.splitlines()) if event["type"] == "stage.completed" and event["payload"]["stage"] == "asr")
        with open(srt, encoding="utf-8") as file:
            text = srt_text(file.read())
        coverage = summary["coverage"]
        return {"wall_sec": wall, "cpu_sec": cpu, "text": text, "model_path": summary["model_path"], "model_load_sec": summary["model_load_sec"], "coverage_pct": coverage["speech_with_words_pct"], "retried": len(coverage["retried"])}

    def close(self):
        pass


class ColdWct2:
    def __init__(self, program, model_dir, extra, env):
        self.program, self.model_dir, self.extra, self.env, self.load_sec = program, model_dir, extra, env, None

    def run(self, media):
        with tempfile.TemporaryDirectory() as output:
            wall, cpu, _ = timed_cli([self.program, "--model_directory", self.model_dir, "--local_files_only", "True", "--output_dir", output, *self.extra, media], self.env)
            with open(os.path.join(output, os.path.splitext(os.path.basename(media))[0] + ".srt"), encoding="utf-8") as file:
                return {"wall_sec": wall, "cpu_sec": cpu, "text": srt_text(file.read())}

    def close(self):
        pass


def candidate_name(overrides):
    return "sophia" + (" " + json.dumps(overrides, separators=(",", ":")) if overrides else "")


def contestants(args, model, env, directory, warmup):
    """(model dir, {name: side}) for one model: Sophia per candidate and wct2, loaded (warm) or per file (cold)."""
    extra = json.loads(args.wct2_args) if args.wct2_args else []
    model_dir, _ = models.resolve_model(model, False)
    sides = {}
    for overrides in args.candidates:
        if args.cold:
            sides[candidate_name(overrides)] = ColdSophia(model, overrides, env, os.path.join(directory, "workspace"))
        else:
            sides[candidate_name(overrides)] = WarmSophia(model, overrides, env, warmup)
    sides["wct2"] = ColdWct2(args.wct2, model_dir, extra, env) if args.cold else WarmWct2(args.wct2, model_dir, extra, env, warmup)
    sides["bare"] = ColdBare(model_dir, env) if args.cold else WarmBare(model_dir, warmup)
    return model_dir, sides


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold", action="store_true", help="through the two CLIs, a process (and a model load) per file")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each per file (medians are reported)")
    parser.add_argument("--files", default="sonnet002,sonnet003,reading_de,reading_es,espeak")
    parser.add_argument("--engine-options", action="append", default=[], help="a Sophia candidate: engine options over its defaults (JSON); repeat to compare several, '{}' is the defaults (the only one without this)")
    parser.add_argument("--wct2-args", default="", help="extra whisper-ctranslate2 arguments (JSON list), e.g. for --device cuda")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()
    args.candidates = [json.loads(options) for options in args.engine_options] or [{}]
    args.wct2 = find_wct2()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    if args.cold and not os.path.isfile(os.path.join(ROOT, "dist", "core", "app", "cli", "main.js")):
        raise SystemExit("dist/ is missing: npm run build first")
    print(f"{'cold (CLIs)' if args.cold else 'warm (models loaded)'}; cores {os.cpu_count()}; {uptime()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="sophia-bench-asr-") as directory:
        warmup, by_model = speech_to_measure(args.files.split(","), directory)
        for model, files in by_model.items():
            model_dir, sides = contestants(args, model, env, directory, warmup)
            try:
                for stem, _, media, text in files:
                    runs = {name: [] for name in sides}
                    for round_index in range(args.rounds):
                        for name in list(sides) if round_index % 2 == 0 else list(reversed(sides)):
                            result = sides[name].run(media)
                            if "model_path" in result and os.path.realpath(result["model_path"]) != os.path.realpath(model_dir):
                                raise SystemExit(f"Sophia loaded {result['model_path']}, whisper-ctranslate2 {model_dir}: not the same model")
                            result.update(scored(text, result.pop("text")))
                            runs[name].append(result)
                            print(f"  {stem} {model} round {round_index + 1} {name:<24} wall {result['wall_sec']:6.1f} s  cpu {result['cpu_sec']:6.1f} s  WER {result['wer']:.3f}  words {result['words']}  ({uptime()})", flush=True)
                    rows += summarise(stem, model, media, text, runs)
            finally:
                for side in sides.values():
                    side.close()
    print_table(rows, args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"mode": "cold" if args.cold else "warm", "cores": os.cpu_count(), "candidates": args.candidates, "rows": rows}, file, indent=1)


def scored(reference, text):
    return {"wer": wer(reference, text), "errors": errors(reference, text), "words": len(normalise(text))}


def summarise(stem, model, media, text, runs):
    """A row per Sophia candidate, each against the same whisper-ctranslate2 runs."""
    from faster_whisper.audio import decode_audio

    media_sec = decode_audio(media).shape[0] / 16000
    median = lambda results, key: statistics.median(result[key] for result in results)  # noqa: E731
    rows = []
    for name, results in runs.items():
        if name in REFERENCES:
            continue
        row = {"recording": stem, "model": model, "candidate": name, "media_sec": media_sec, "reference_words": len(normalise(text)), "runs": results}
        for key in ("wall_sec", "cpu_sec", "wer", "errors", "words"):
            row[f"sophia_{key}"] = median(results, key)
            for reference in REFERENCES:
                row[f"{reference}_{key}"] = median(runs[reference], key)
        for reference in REFERENCES:
            row[f"{reference}_runs"] = runs[reference]
            row[f"speedup_wall_{reference}"] = row[f"{reference}_wall_sec"] / row["sophia_wall_sec"]
            row[f"speedup_cpu_{reference}"] = row[f"{reference}_cpu_sec"] / row["sophia_cpu_sec"]
        row["coverage_pct"] = min(result["coverage_pct"] for result in results)
        rows.append(row)
    return rows


# What each Sophia candidate is measured against: whisper-ctranslate2, and faster-whisper alone (the floor for words).
REFERENCES = ("wct2", "bare")


def print_table(rows, args):
    print(f"\n{'cold' if args.cold else 'warm'}, medians of {args.rounds} round(s); speed-up = the other's time / Sophia's (goal > 1 against wct2, at no per-recording accuracy cost); WER against the printed text, errors in brackets")
    print("| recording | model | Sophia | media s | Sophia wall s | wct2 wall s | bare wall s | speed-up wall vs wct2 | vs bare | Sophia CPU s | wct2 CPU s | bare CPU s | speed-up CPU vs wct2 | vs bare | Sophia WER | wct2 WER | bare WER | Sophia − bare errors | text words | Sophia coverage % |")
    print("|---" * 20 + "|")
    for row in rows:
        print(
            f"| {row['recording']} | {row['model']} | {row['candidate']} | {row['media_sec']:.0f} | {row['sophia_wall_sec']:.1f} | {row['wct2_wall_sec']:.1f} | {row['bare_wall_sec']:.1f} | "
            f"{row['speedup_wall_wct2']:.2f} | {row['speedup_wall_bare']:.2f} | {row['sophia_cpu_sec']:.1f} | {row['wct2_cpu_sec']:.1f} | {row['bare_cpu_sec']:.1f} | "
            f"{row['speedup_cpu_wct2']:.2f} | {row['speedup_cpu_bare']:.2f} | {row['sophia_wer']:.3f} ({row['sophia_errors']:.0f}) | {row['wct2_wer']:.3f} ({row['wct2_errors']:.0f}) | "
            f"{row['bare_wer']:.3f} ({row['bare_errors']:.0f}) | {row['sophia_errors'] - row['bare_errors']:+.0f} | {row['reference_words']} | {row['coverage_pct']:.1f} |"
        )
    for candidate in dict.fromkeys(row["candidate"] for row in rows):
        mine = [row for row in rows if row["candidate"] == candidate]
        total = lambda key: sum(row[key] for row in mine)  # noqa: E731
        words = total("reference_words")
        print(
            f"{candidate}, all files: speed-up wall {total('wct2_wall_sec') / total('sophia_wall_sec'):.2f} vs wct2, {total('bare_wall_sec') / total('sophia_wall_sec'):.2f} vs bare; "
            f"CPU {total('wct2_cpu_sec') / total('sophia_cpu_sec'):.2f} vs wct2, {total('bare_cpu_sec') / total('sophia_cpu_sec'):.2f} vs bare; "
            f"pooled WER Sophia {total('sophia_errors') / words:.3f}, wct2 {total('wct2_errors') / words:.3f}, bare {total('bare_errors') / words:.3f}; "
            f"recordings worse than bare by more than one error: {', '.join(row['recording'] for row in mine if row['sophia_errors'] - row['bare_errors'] > 1) or 'none'}"
        )
    print(uptime())


if __name__ == "__main__":
    main()
