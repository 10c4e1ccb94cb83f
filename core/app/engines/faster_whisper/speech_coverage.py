"""Speech coverage: no speech may lose its words without the transcript saying so.

Whisper can stop early (a sentence it cut short, a 30 s window it skipped after a confident
"end of text") or pin words to the end of the file. Here the words heard are checked against
where Silero VAD (shipped with faster-whisper) finds speech; a stretch of speech of at least
MIN_UNCOVERED_SEC without words is transcribed again on its own, and what still has no words is
reported. Times are seconds. Segments and words are the worker's plain dicts:
  segment {"start", "end", "text", "words", "no_speech_prob", "avg_logprob", "fell_back"}
  word    {"text", "start", "end", "probability"}
Everything here but speech_regions is pure, so it is unit-tested without a model
(test/unit/python/test_speech_coverage.py).
"""

import bisect
import re

from audio_time import clamp

# The floor: a second or more of speech with no words is lost speech, not a pause.
MIN_UNCOVERED_SEC = 1.0
# Whisper's timestamps come in 20 ms steps: anything this close to the end of the media is "at" it.
TIME_STEP_SEC = 0.02
# Silero VAD's own defaults (snakers4/silero-vad), not faster-whisper's vad_filter ones (2 s of
# silence before a cut, 0.4 s padding): those are made to keep audio for decoding, and would count
# a pause after a line, plus padding, as speech without words.
# Whisper's own log_prob_threshold: a decode less sure than this is doubted (doubtful_regions).
DOUBT_LOGPROB = -1.0
# The most speech one word takes: a long word said slowly. Whisper sometimes stretches a word over
# a whole sentence it did not write down (tiny.en once timed "and thou" over 3.6 s of 14 words);
# the speech beyond this, under a run of such words, is checked like speech without words.
WORD_SPEECH_MAX_SEC = 1.0
# A word starting this much or more before the speech it ends in starts where that speech starts
# (speech_onsets); nearer, the VAD's own edge (30 ms of padding, soft onsets) is no better.
EARLY_START_SEC = 0.1
VAD_OPTIONS = {"threshold": 0.5, "min_speech_duration_ms": 250, "min_silence_duration_ms": 100, "speech_pad_ms": 30}


def speech_regions(audio, sampling_rate=16000):
    """[(start, end)] where Silero VAD hears speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions(**VAD_OPTIONS), sampling_rate=sampling_rate)
    return [(chunk["start"] / sampling_rate, chunk["end"] / sampling_rate) for chunk in chunks]


# ---------------------------------------------------------------------------------------------
# Word times


def repair_words(segments, duration):
    """Segments with every word inside the media, in time order, with a length; and the repair counts.

    - clamped: a time outside [0, duration] is moved to the nearest edge;
    - reordered: a word starting before the previous word ends starts where it ends (Whisper's
      windows can overlap by a few frames);
    - dropped_at_end: a word of no length at the very end of the media is dropped. Whisper pins
      words there when its text ran past the audio it aligned; their real time is unknown, and the
      coverage check transcribes that speech again;
    - widened: any other word of no length takes up to one time step of the silence after it (or
      before it), so every word has a start before its end where there is room.
    A segment whose words were all dropped is dropped; a segment's times follow its words.
    """
    counts = {"clamped": 0, "reordered": 0, "dropped_at_end": 0, "widened": 0}
    previous_end = 0.0
    repaired = []
    for segment in segments:
        words = []
        for word in segment["words"]:
            start, end = clamp(word["start"], duration), clamp(word["end"], duration)
            if (start, end) != (word["start"], word["end"]):
                counts["clamped"] += 1
            end = max(start, end)
            if start < previous_end:
                counts["reordered"] += 1
                start, end = previous_end, max(end, previous_end)
            if end - start <= 0 and start >= duration - TIME_STEP_SEC:
                counts["dropped_at_end"] += 1
                continue
            words.append({**word, "start": start, "end": end})
            previous_end = end
        if words or not segment["words"]:
            repaired.append({**with_words(segment, words, segment["words"]), "start": clamp(segment["start"], duration), "end": clamp(segment["end"], duration)})
    widen_points(repaired, duration, counts)
    return repaired, counts


def widen_points(segments, duration, counts):
    words = [word for segment in segments for word in segment["words"]]
    for index, word in enumerate(words):
        if word["end"] > word["start"]:
            continue
        after = words[index + 1]["start"] if index + 1 < len(words) else duration
        before = words[index - 1]["end"] if index > 0 else 0.0
        if after > word["end"]:
            word["end"] = min(word["end"] + TIME_STEP_SEC, after)
        elif word["start"] > before:
            word["start"] = max(word["start"] - TIME_STEP_SEC, before)
        else:
            continue
        counts["widened"] += 1
    for segment in segments:
        if segment["words"]:
            segment["start"], segment["end"] = segment["words"][0]["start"], segment["words"][-1]["end"]


def with_words(segment, words, original):
    if len(words) == len(original):
        return {**segment, "words": words}
    return {**segment, "words": words, "text": joined_text(words)}


# Letters of the scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) and CJK punctuation.
UNSPACED_CHARACTER = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def joined_text(words):
    """The words as one line: a space between them, but none next to a character of a script written
    without spaces unless Whisper wrote one there (Thai between phrases, marked space_before)."""
    text = ""
    for word in words:
        if text and (word.get("space_before") or not (UNSPACED_CHARACTER.match(text[-1]) or UNSPACED_CHARACTER.match(word["text"][:1]))):
            text += " "
        text += word["text"]
    return text


# ---------------------------------------------------------------------------------------------
# Coverage

# How far outside its span a retry can hear words: worker.SPAN_MARGIN_SEC, with room to spare.
RETRY_REACH_SEC = 2.0


def uncovered_spans(regions, words, min_sec=MIN_UNCOVERED_SEC):
    """[(start, end)] of speech, min_sec or longer, that no word's time overlaps."""
    intervals = sorted((word["start"], word["end"]) for word in words)
    spans = []
    for region_start, region_end in regions:
        cursor = region_start
        for start, end in intervals:
            if end <= cursor or start >= region_end:
                continue
            if start > cursor:
                spans.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < region_end:
            spans.append((cursor, region_end))
    return [(start, end) for start, end in spans if end - start >= min_sec - 1e-9]


def all_words(segments):
    return [word for segment in segments for word in segment["words"]]


def speech_under(word, regions, ends):
    """Seconds of speech (regions, in time order; ends, their ends) within the word's time."""
    index = bisect.bisect_right(ends, word["start"])
    total = 0.0
    while index < len(regions) and regions[index][0] < word["end"]:
        total += min(word["end"], regions[index][1]) - max(word["start"], regions[index][0])
        index += 1
    return total


def stretched_spans(words, regions, min_sec=MIN_UNCOVERED_SEC):
    """[(start, end)] of runs of consecutive words holding min_sec or more of speech beyond what words can take.

    No word takes more than WORD_SPEECH_MAX_SEC of speech; the speech a run of longer words holds
    beyond that is speech heard as no word at all. The speech is overlapped by words, so the check
    for speech without words cannot see it.
    """
    ends = [end for _, end in regions]
    spans = []
    run, excess = None, 0.0
    for word in [*words, None]:  # None ends the last run
        extra = speech_under(word, regions, ends) - WORD_SPEECH_MAX_SEC if word is not None else 0.0
        if extra > 0:
            run = (run[0] if run else word["start"], word["end"])
            excess += extra
            continue
        if run and excess >= min_sec - 1e-9:
            spans.append(run)
        run, excess = None, 0.0
    return spans


def doubtful_regions(segments, regions):
    """The speech regions some word of a doubted segment falls in.

    A segment is doubted when Whisper only got it by falling back to sampling (its beam search failed
    the compression or log-probability check: on speech as repetitive as a list, where the true text
    compresses too well, the sample that wins is often not what was said), or when its mean
    log-probability is below Whisper's own threshold.
    """
    ends = [end for _, end in regions]
    doubted = set()
    for word in (word for segment in segments if is_doubtful(segment) for word in segment["words"]):
        index = bisect.bisect_right(ends, word["start"])
        while index < len(regions) and regions[index][0] < word["end"]:
            doubted.add(index)
            index += 1
    return [regions[index] for index in sorted(doubted)]


def is_doubtful(segment):
    return bool(segment.get("fell_back")) or segment.get("avg_logprob", 0.0) < DOUBT_LOGPROB


def overlap(a, b):
    return min(a["end"], b["end"]) - max(a["start"], b["start"])


def already_heard(word, heard):
    """Whether the first pass has a word at this word's time: the same speech heard twice.

    It does when first-pass words take up half of the word's time or more, or one with the same
    text overlaps it at all. Middles are no test: Whisper starts the first word of a clip at the
    clip's start, so a word at the leading edge of a retried stretch has its middle in the margin
    before it; nor is the overlap with one word, since an early start can reach over a short word
    before (spec §4.1).
    """
    key = word_key(word)
    shared = 0.0
    for other in heard:
        part = overlap(word, other)
        if part > 0:
            if word_key(other) == key:
                return True
            shared += part
    return shared >= 0.5 * (word["end"] - word["start"]) and shared > 0


def word_key(word):
    return "".join(ch for ch in word["text"].lower() if ch.isalnum())


def surer(retried, segments, span):
    """Whether a retry is surer of its words than the first pass of the words in span, by mean log-probability per word.

    A window that fell back is not always wrong: when every temperature fails the compression check
    (the true text of a list is repetitive), Whisper keeps the surest try, which is often the beam
    search's; a retry of one region, with less context, may then hear it worse.
    """
    start, end = span
    first = [segment["avg_logprob"] for segment in segments for word in segment["words"] if start <= (word["start"] + word["end"]) / 2 <= end]
    again = [segment["avg_logprob"] for segment in retried for _ in segment["words"]]
    return bool(again) and (not first or sum(again) / len(again) > sum(first) / len(first))


def hears_more(retried, segments, span):
    """Whether a retry has more words in span than the first pass: what a stretched word stood for."""
    start, end = span

    def inside(words):
        return sum(1 for word in words if start <= (word["start"] + word["end"]) / 2 <= end)

    return inside(all_words(retried)) > inside(all_words(segments))


def merge_retried(segments, span, retried, replace=False):
    """(segments, words added, words replaced): a retry's words merged into segments, in time order.

    Every retried word the first pass does not already have at its time is added (already_heard);
    with replace, the first pass's words inside span are dropped first, and the retry's words
    stand for them.
    """
    start, end = span
    replaced = 0
    if replace:
        kept = []
        for segment in segments:
            words = [word for word in segment["words"] if not start <= (word["start"] + word["end"]) / 2 <= end]
            replaced += len(segment["words"]) - len(words)
            if words or not segment["words"]:
                kept.append(with_words(segment, words, segment["words"]))
        segments = kept
    heard = [word for word in all_words(segments) if word["end"] > start - RETRY_REACH_SEC and word["start"] < end + RETRY_REACH_SEC]
    added = []
    for segment in retried:
        words = [word for word in segment["words"] if not already_heard(word, heard)]
        if words:
            added.append(with_words(segment, words, segment["words"]))
    return in_time_order(segments + added), sum(len(segment["words"]) for segment in added), replaced


def in_time_order(segments):
    """Segments regrouped so their words run in time order: a segment whose words straddle another's is split around it."""
    tagged = sorted(((word["start"], word["end"], index, word) for index, segment in enumerate(segments) for word in segment["words"]), key=lambda item: item[:3])
    runs = []
    for _, _, index, word in tagged:
        if runs and runs[-1][0] == index:
            runs[-1][1].append(word)
        else:
            runs.append((index, [word]))
    regrouped = [{**with_words(segments[index], words, segments[index]["words"]), "start": words[0]["start"], "end": words[-1]["end"]} for index, words in runs]
    wordless = [segment for segment in segments if not segment["words"]]
    return sorted(regrouped + wordless, key=lambda segment: segment["start"])


def speech_onsets(segments, regions, counts):
    """Each word that starts well before the speech it ends in starts where that speech starts (counted as early_start).

    Whisper starts the first word of a segment (or of a clip) where the segment starts, often in the
    silence before the word: up to a second before anyone speaks. The VAD says where speech starts.
    """
    starts = [region[0] for region in regions]
    result = []
    for segment in segments:
        words = []
        for word in segment["words"]:
            below = bisect.bisect_left(starts, word["end"] - TIME_STEP_SEC)
            if below > 0 and word["start"] < starts[below - 1] - EARLY_START_SEC:
                counts["early_start"] += 1
                word = {**word, "start": starts[below - 1]}
            words.append(word)
        result.append({**segment, "words": words, "start": words[0]["start"] if words else segment["start"]})
    return result


def complete(segments, regions, duration, transcribe_spans, min_sec=MIN_UNCOVERED_SEC):
    """(segments, report): repaired words, doubted, stretched or uncovered speech transcribed again, what is left reported.

    transcribe_spans([(start, end)]) returns, per span, the segments a fresh decode of that span
    heard (their times from the start of the media). A doubted region's retry replaces the first
    pass's words there when it is surer of its own, a stretched run's when it hears more words;
    otherwise, and for an uncovered stretch, the retry adds the words the first pass lacks.
    """
    repairs = {"clamped": 0, "reordered": 0, "dropped_at_end": 0, "widened": 0, "early_start": 0}

    def repaired(heard):
        heard, counts = repair_words(heard, duration)
        for key, count in counts.items():
            repairs[key] += count
        return speech_onsets(heard, regions, repairs)

    segments = repaired(segments)
    doubted = doubtful_regions(segments, regions)
    plain = [region for region in regions if region not in doubted]
    words = all_words(segments)
    spans = sorted(
        [(region, "doubtful") for region in doubted]
        + [(gap, "no_words") for gap in uncovered_spans(plain, words, min_sec)]
        + [(run, "stretched") for run in stretched_spans(words, plain, min_sec)]
    )
    retried = []
    if spans:
        for (span, reason), heard in zip(spans, transcribe_spans([span for span, _ in spans])):
            heard = repaired(heard)
            replace = (reason == "doubtful" and surer(heard, segments, span)) or (reason == "stretched" and hears_more(heard, segments, span))
            segments, found, replaced = merge_retried(segments, span, heard, replace)
            retried.append({"start": span[0], "end": span[1], "words": found, "reason": reason, "replaced": replaced})
        segments = repaired(segments)
    uncovered = uncovered_spans(regions, all_words(segments), min_sec)
    return [{key: value for key, value in segment.items() if key != "fell_back"} for segment in segments], report(regions, retried, uncovered, repairs)


def report(regions, retried, uncovered, repairs):
    speech = sum(end - start for start, end in regions)
    missing = sum(end - start for start, end in uncovered)
    return {
        "speech_sec": round(speech, 3),
        "speech_with_words_sec": round(speech - missing, 3),
        "speech_with_words_pct": round(100.0 * (speech - missing) / speech, 1) if speech > 0 else 100.0,
        "speech_regions": len(regions),
        "retried": [{**entry, "start": round(entry["start"], 3), "end": round(entry["end"], 3)} for entry in retried],
        "uncovered": [{"start": round(start, 3), "end": round(end, 3)} for start, end in uncovered],
        "word_repairs": repairs,
    }
