"""A piece of media transcribed by several lanes at once: the cores shared out by time.

CTranslate2 can spread each matrix product of one 30 s window over the cores (intra-op threads),
or run several windows at once with one thread each (its `num_workers`, which share one copy of
the weights). Whisper's decoder works one token at a time on small matrices, and there the threads
of one product mostly wait for each other: measured in spec §4.1 (tiny.en, 180 s, 2 cores), one
thread decodes in 6.1 s of wall time, two threads on the same window in 10.5 s. So a worker runs
`lanes` threads of one CTranslate2 thread each, and a piece longer than one window is cut into
up to that many parts, each transcribed by a lane as a piece of its own (piecewise.py's rules, one
level down):

- the cuts are in silences (audio_pieces.cut_offset, searched within CUT_SEARCH_SEC around the
  even split), and each part's audio reaches OVERLAP_SEC past its cuts, so a part hears the words
  it owns in context and a word belongs to the part where it was said (piecewise.owned_segments);
- a part gets the language of the first one: the first lane starts alone, and the others start
  once it has the language, given or detected by faster-whisper from the piece's first 30 s, as
  for a piece transcribed whole;
- each part checks the speech coverage of what it owns, and the reports are summed;
- progress is the seconds of the piece that the lanes have transcribed, added up, so it only grows.
A piece of one window or less, or a worker of one lane, is transcribed as it always was.
"""

import copy
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import audio_pieces
import piecewise
from audio_time import SAMPLING_RATE, WINDOW_SEC

CUT_SEARCH_SEC = 20.0
OVERLAP_SEC = audio_pieces.OVERLAP_SEC


def configured_lanes(environ=os.environ):
    """$SOPHIA_ASR_LANES (the runner sets it: its cores over its concurrency), else the cores this process may use."""
    raw = environ.get("SOPHIA_ASR_LANES")
    if not raw:
        return max(1, len(os.sched_getaffinity(0)))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"SOPHIA_ASR_LANES must be a whole number of lanes, at least 1, got {raw!r}")
    return value


def parts(audio, owned, lanes):
    """[(audio start, audio end, (owned start, owned end))] in samples: owned ((start, end) in samples) cut
    into at most `lanes` parts of at least a window each where it is longer than one window."""
    start, end = owned
    count = min(lanes, math.ceil((end - start) / (WINDOW_SEC * SAMPLING_RATE)))
    if count <= 1:
        return [(0, audio.shape[0], owned)]
    half_search = int(CUT_SEARCH_SEC * SAMPLING_RATE / 2)
    overlap = int(OVERLAP_SEC * SAMPLING_RATE)
    cuts = [start]
    for k in range(1, count):
        even = start + (end - start) * k // count
        lo, hi = max(cuts[-1] + 1, even - half_search), min(end - 1, even + half_search)
        cuts.append(lo + audio_pieces.cut_offset(audio[lo:hi]))
    cuts.append(end)
    return [(max(0, a - overlap), min(audio.shape[0], b + overlap), (a, b)) for a, b in zip(cuts, cuts[1:])]


def transcribe(audio, language, owned, lanes, transcribe_part, on_info, on_progress):
    """(info, segments, report) of a piece's audio, as transcribe_part would give for it whole.

    transcribe_part(audio, language, owned, on_info, on_progress) -> (info, segments, report), as
    piecewise.transcribe's transcribe_piece (language None: as the task says; owned in the part's
    seconds, None: all of it). language: the piece's, or None; owned: the piece's own part, in
    seconds of its audio (None: all of it).
    """
    whole = (0, audio.shape[0]) if owned is None else (round(owned[0] * SAMPLING_RATE), round(owned[1] * SAMPLING_RATE))
    cut = parts(audio, whole, lanes)
    if len(cut) == 1:
        return transcribe_part(audio, language, owned, on_info, on_progress)

    progress = Progress(whole[0] / SAMPLING_RATE, on_progress)
    first_info, started = [], threading.Event()

    def run(index, language):
        a, b, (own_a, own_b) = cut[index]

        def part_info(info):
            if index == 0:
                first_info.append(info)
                started.set()

        def part_progress(record):
            progress.report(index, piecewise.shifted(record, a / SAMPLING_RATE), (own_a / SAMPLING_RATE, own_b / SAMPLING_RATE))

        try:
            info, segments, report = transcribe_part(audio[a:b], language, ((own_a - a) / SAMPLING_RATE, (own_b - a) / SAMPLING_RATE), part_info, part_progress)
        finally:
            started.set()  # a first lane that failed before its info lets the others see it and stop
        return info, [piecewise.shifted(segment, a / SAMPLING_RATE) for segment in segments], report

    with ThreadPoolExecutor(max_workers=len(cut), thread_name_prefix="lane") as pool:
        first = pool.submit(run, 0, language)
        started.wait()
        if not first_info:
            first.result()  # raises the first lane's error
        info = copy.copy(first_info[0])
        info.duration = audio.shape[0] / SAMPLING_RATE  # the piece's, not its first part's
        on_info(info)
        rest = [pool.submit(run, k, info.language) for k in range(1, len(cut))]
        results = [first.result()] + [future.result() for future in rest]

    segments, last_word = [], None
    for _, part_segments, _ in results:
        part_segments, last_word = piecewise.following(part_segments, last_word)
        segments.extend(part_segments)
    report = piecewise.merged_report([(a / SAMPLING_RATE, result[2]) for (a, _, _), result in zip(cut, results)])
    return info, segments, report


class Progress:
    """The lanes' progress as one position that only grows: where the piece's own part starts, plus
    the seconds every lane has transcribed of its own part."""

    def __init__(self, start, on_progress):
        self.start = start
        self.on_progress = on_progress
        self.done = {}
        self.lock = threading.Lock()

    def report(self, lane, record, owned):
        with self.lock:
            done = min(max(record["end"], owned[0]), owned[1]) - owned[0]
            self.done[lane] = max(self.done.get(lane, 0.0), done)
            position = self.start + sum(self.done.values())
            self.on_progress({"start": record["start"], "end": position, "text": record["text"]})
