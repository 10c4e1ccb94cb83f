"""The faster_whisper worker: one Python process serving transcription requests for the Node runner.

Protocol (newline-delimited JSON; core/app/engines/faster_whisper/protocol.ts is its typed twin):
  stdin  <- {"type": "transcribe", "id", "media", "model", "options"}
            {"type": "align", "id", "media", "model", "options", "language", "spans": [{"start", "end", "words"}]}
            {"type": "load", "id", "model", "options"}
  stdout -> ready, then per transcribe request: model, info, progress..., segment..., done (with the
            speech coverage report, speech_coverage.py), where media longer than a piece
            (audio_pieces.py) has progress... then segment... for each piece in turn; per align
            request: model, aligned; per load request: model; or error.
stdout carries protocol lines only; logs and anything a library prints go to stderr.
EOF on stdin ends the process with status 0.

One module per job: stdout_channel.py (stdout), dispatch.py (a line to its handler), request_common.py (what
every request shares), model_cache.py (the loaded model), transcribe.py (the transcribe request,
with decoding.py and written_words.py), forced_align.py (the align request), audio_time.py (the
sampling rate, Whisper's window, clamping a time).
"""

import logging
import os
import signal
import sys
import threading
import time

# Before huggingface_hub is imported (faster_whisper imports it): it reads these once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import heap  # noqa: E402
from stdout_channel import Channel, take_stdout  # noqa: E402
from dispatch import handle_line  # noqa: E402
from model_cache import ModelCache  # noqa: E402
from request_common import WorkerError  # noqa: E402

log = logging.getLogger("sophia.worker")


def exit_when_orphaned(parent):
    # A runner killed with SIGKILL cannot stop its worker; without this watch the worker would decode
    # on, holding a core, until its next write to the dead runner fails (up to a 30 s window later).
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def cluster_handlers():
    """With a cluster address, requests go to Ray actors on the cluster's nodes (cluster/driver.py); None: served here."""
    address = os.environ.get("SOPHIA_CLUSTER")
    if not address:
        return None
    from cluster import driver

    shared = [path for path in os.environ.get("SOPHIA_CLUSTER_SHARED_PATHS", "").split(os.pathsep) if path]
    cluster = driver.ClusterDriver(address, shared, WorkerError)
    cluster.connected()  # a cluster that cannot be reached stops the worker before ready
    return cluster.handlers()


def main():
    protocol = take_stdout()
    heap.set_threshold(heap.USUAL_THRESHOLD_BYTES)
    threading.Thread(target=exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="faster_whisper worker: %(levelname)s %(name)s: %(message)s")
    # The runner owns this process's lifetime: Ctrl-C in a terminal reaches the whole process group,
    # and the runner, not a KeyboardInterrupt here, decides whether the current request is canceled.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctranslate2
        import faster_whisper
    except ImportError as error:
        log.error("cannot import faster_whisper (%s): this Python has no faster-whisper; prepare a venv with `npx sophia-cli setup-python <venv>` (in a checkout, ./scripts/setup)", error)
        return 3
    import vad_batches

    vad_batches.install()

    channel = Channel(protocol)
    cache = ModelCache()
    try:
        handlers = cluster_handlers()
    except WorkerError as error:
        # Before ready: the runner reads this line as the reason the worker could not start.
        channel.error(None, error.code, error.message)
        return 4
    try:
        channel.send({"type": "ready", "pid": os.getpid(), "faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__})
        for line in sys.stdin:
            if line.strip():
                handle_line(channel, cache, line, handlers)
    except BrokenPipeError:
        return 0  # the runner went away; nobody is left to answer
    return 0


if __name__ == "__main__":
    sys.stdin.reconfigure(encoding="utf-8")
    sys.exit(main())
