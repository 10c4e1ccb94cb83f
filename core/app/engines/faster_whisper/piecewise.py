"""One transcription of media read in pieces (audio_pieces.py), as the runner would get it for the whole.

- Language: the first piece's, given by the task or detected by faster-whisper from its first 30 s
  (as for a whole file), then given to every later piece: it is detected once.
- Words: each piece's audio reaches a few seconds past the part of the media it owns, for context;
  a word is kept from the piece that owns where it was said (owned_segments), so a word heard by
  two pieces is kept once. The cut between two pieces is in a pause; but Whisper stretches a word
  across a pause, the last one before it forward or the first one after it back, and each piece
  may stretch the same word differently. So where a word was said is the middle of the part of its
  time that overlaps speech most (the piece's Silero VAD regions), not the middle of its time, and
  the transcriber keeps only the words its piece owns before the coverage step repairs their times
  (a repair that moves a stretched word's start to the speech after the pause would otherwise
  carry it across the cut). A piece's first word that repeats the word before it and overlaps it
  in time (within SAME_WORD_GAP_SEC) is that word heard twice, and is dropped.
- Times: every segment, word and progress position is shifted by its piece's start, so they are
  on the media's timeline.
- Coverage: each piece checks the speech of its own part (speech_coverage.py: word repairs,
  uncovered speech decoded again); the reports are summed into one.
- Info: sent once, for the first piece. Its duration is the whole media's: the piece's own when it
  is the only one, else the length the container declares (decoding gives the exact one, in done).
A media of one piece goes through exactly as it did before pieces existed.
"""

import bisect
import re

import speech_coverage

SAME_WORD_GAP_SEC = 0.2


def transcribe(pieces, duration_hint, transcribe_piece, on_info, on_progress, on_segments):
    """(duration, language, coverage report) of the media; segments go to on_segments a piece at a time.

    transcribe_piece(audio, language, owned, on_info, on_progress) -> (info, segments, report)
    transcribes a piece's audio in the given language (None: as the task says) and returns only the
    words it owns, checking coverage within owned ((start, end) in the piece's seconds; None: all
    of it: owned_segments); on_info(info, duration).
    """
    language, duration, reports, last_word = None, 0.0, [], []

    def sent(segments):
        segments, last = following(segments, last_word[-1] if last_word else None)
        last_word[:] = [last] if last else []
        on_segments(segments)

    for piece in pieces:
        language = transcribe_one(piece, language, not reports, duration_hint, transcribe_piece, on_info, on_progress, sent, reports)
        duration = piece.owned[1]
        # The next piece is decoded before the loop rebinds this name: one piece in memory at a time.
        del piece
    return duration, language, merged_report(reports)


def transcribe_one(piece, language, first, duration_hint, transcribe_piece, on_info, on_progress, on_segments, reports):
    """The language after this piece; its segments go to on_segments, its report to reports."""
    owned = None if first and piece.last else (piece.owned[0] - piece.start, piece.owned[1] - piece.start)

    def piece_info(info):
        if first:
            on_info(info, float(info.duration) if piece.last else max(duration_hint or 0.0, piece.duration))

    def piece_progress(record):
        on_progress(shifted(record, piece.start))

    info, segments, report = transcribe_piece(piece.audio, language, owned, piece_info, piece_progress)
    on_segments([shifted(segment, piece.start) for segment in segments])
    reports.append((piece.start, report))
    return language or info.language


def owned_segments(segments, owned, regions=()):
    """The segments with only their words said in [start, end) (said_at); a segment left without words is dropped."""
    start, end = owned
    inside = lambda time: start <= time < end  # noqa: E731
    ends = [region[1] for region in regions]
    kept = []
    for segment in segments:
        words = [word for word in segment["words"] if inside(said_at(word, regions, ends))]
        if len(words) == len(segment["words"]) and words:
            kept.append(segment)
        elif words:
            kept.append({**speech_coverage.with_words(segment, words, segment["words"]), "start": words[0]["start"], "end": words[-1]["end"]})
        elif not segment["words"] and inside((segment["start"] + segment["end"]) / 2):
            kept.append(segment)
    return kept


def said_at(word, regions, ends):
    """Where a word was said: the middle of the part of its time that overlaps speech most (regions:
    [(start, end)] in time order, ends their ends), or of all its time when it overlaps none.

    Measured with tiny.en and 60 s pieces: the piece before a cut heard "thee" as "the" from 435.16 to
    436.90 s, across the pause to the next line (its middle 436.03 s, just past the cut at 436.02 s),
    the piece after as "thee." from 435.14 to 436.10 s (middle 435.62 s): by middles neither piece
    owned it, and the word was lost. Its speech, 435.1 to 435.6 s, is on the first piece's side.
    """
    best, at = 0.0, (word["start"] + word["end"]) / 2
    index = bisect.bisect_right(ends, word["start"])
    while index < len(regions) and regions[index][0] < word["end"]:
        lo, hi = max(regions[index][0], word["start"]), min(regions[index][1], word["end"])
        if hi - lo > best:
            best, at = hi - lo, (lo + hi) / 2
        index += 1
    return at


def following(segments, previous):
    """(segments without a repeat of previous, the last word sent once they are): how the segments of
    one stretch follow those of the stretch before it (a piece, or a lane's part, lanes.py)."""
    segments = without_repeat(segments, previous)
    words = [word for segment in segments for word in segment["words"]]
    return segments, words[-1] if words else previous


def without_repeat(segments, previous):
    """segments without a first word that is previous (the last word sent) heard again: same text, overlapping it in time."""
    if previous is None or not segments or not segments[0]["words"]:
        return segments
    first = segments[0]["words"][0]
    if spelled(first["text"]) != spelled(previous["text"]) or first["start"] > previous["end"] + SAME_WORD_GAP_SEC:
        return segments
    rest = segments[0]["words"][1:]
    head = [{**speech_coverage.with_words(segments[0], rest, segments[0]["words"]), "start": rest[0]["start"]}] if rest else []
    return head + segments[1:]


def spelled(text):
    return re.sub(r"[^\w']+", "", text.lower())


def clipped(regions, owned):
    """The (start, end) regions cut to owned, those outside it dropped."""
    start, end = owned
    return [(max(a, start), min(b, end)) for a, b in regions if min(b, end) > max(a, start)]


def shifted(record, offset):
    """A segment (or progress) record with its times and its words' times offset seconds later."""
    if offset == 0:
        return record
    moved = {**record, "start": record["start"] + offset, "end": record["end"] + offset}
    if "words" in record:
        moved["words"] = [{**word, "start": word["start"] + offset, "end": word["end"] + offset} for word in record["words"]]
    return moved


def merged_report(reports):
    """One coverage report from (piece start, report) pairs; a single piece's report unchanged."""
    if len(reports) == 1:
        return reports[0][1]
    speech = sum(report["speech_sec"] for _, report in reports)
    with_words = sum(report["speech_with_words_sec"] for _, report in reports)
    repairs = {}
    for _, report in reports:
        for kind, count in report["word_repairs"].items():
            repairs[kind] = repairs.get(kind, 0) + count
    return {
        "speech_sec": round(speech, 3),
        "speech_with_words_sec": round(with_words, 3),
        "speech_with_words_pct": round(100.0 * with_words / speech, 1) if speech > 0 else 100.0,
        "speech_regions": sum(report["speech_regions"] for _, report in reports),
        "retried": [moved_span(span, start) for start, report in reports for span in report["retried"]],
        "uncovered": [moved_span(span, start) for start, report in reports for span in report["uncovered"]],
        "word_repairs": repairs,
    }


def moved_span(span, offset):
    return {**span, "start": round(span["start"] + offset, 3), "end": round(span["end"] + offset, 3)}
