"""The transcribe request: a media's speech as segments of timed words, every stretch of speech checked (speech_coverage.py)."""

import itertools

import heap
import piecewise
import speech_coverage
from audio_time import SAMPLING_RATE, clamp
from decoding import decode_options, start_decoding
from model_cache import loaded_model
from request_common import WorkerError, find_model, request_options
from written_words import written_words

SPAN_MARGIN_SEC = 0.5


def transcribe(channel, cache, request):
    rid = request["id"]
    options = request_options(request.get("options"))
    name = request.get("model")
    media = request.get("media")
    if not isinstance(name, str) or not name or not isinstance(media, str) or not media:
        raise WorkerError("internal", "a transcribe request needs string fields model and media")

    import audio_pieces

    # Cheap checks first: a missing model or unreadable media fails before a large model loads.
    directory, source = find_model(name, options)
    try:
        with audio_pieces.MediaAudio(media) as audio:
            piece_sec = audio_pieces.configured_piece_sec()
            pieces = audio.pieces(piece_sec)
            pieces = itertools.chain([next(pieces)], pieces)  # the media decodes before a large model loads
            model = loaded_model(channel, cache, rid, name, directory, source, options)
            assert_model_speaks(model, name, options)
            hint = audio.duration_hint()
            with heap.returning_large_blocks(hint is None or (piece_sec is not None and hint > piece_sec)):
                duration, language, report = transcribe_pieces(channel, rid, model, cache.lanes, options, pieces, hint)
    except audio_pieces.MediaUnreadable as error:  # also from a piece deep into the media
        raise WorkerError("media_unreadable", str(error))
    channel.send({"type": "done", "id": rid, "duration": duration, "language": language, "coverage": report})


def transcribe_pieces(channel, rid, model, lane_count, options, pieces, duration_hint):
    """(duration, language, coverage report) of the media; info, progress and segments sent as they come
    (piecewise.py), each piece shared out among lane_count lanes (lanes.py)."""
    import lanes

    def on_info(info, duration):
        # faster-whisper reports probability 1 for a language it was given, and for an English-only
        # model's English; only a detection has a real one.
        detected = options["language"] is None and model.model.is_multilingual
        probability = float(info.language_probability) if detected else None
        channel.send({"type": "info", "id": rid, "duration": duration, "language": info.language, "language_probability": probability})

    def on_progress(record):
        # With lanes, the position is the seconds transcribed in all (lanes.Progress), and the text is a
        # lane's: text_at says where in the media that text is said.
        channel.send({"type": "progress", "id": rid, "position": record["end"], "text": record["text"], "text_at": record["start"]})

    def on_segments(segments):
        for record in segments:
            channel.send({"type": "segment", "id": rid, **record})

    def transcribe_part(audio, language, owned, part_info, part_progress):
        return transcription(model, audio, {**options, "language": language} if language else options, part_info, part_progress, owned)

    def transcribe_piece(audio, language, owned, piece_info, piece_progress):
        return lanes.transcribe(audio, language, owned, lane_count, transcribe_part, piece_info, piece_progress)

    return piecewise.transcribe(pieces, duration_hint, transcribe_piece, on_info, on_progress, on_segments)


def transcription(model, audio, options, on_info=lambda info: None, on_progress=lambda record: None, owned=None):
    """(info, segments, coverage report): what the model heard, with every stretch of speech checked
    (only within owned, (start, end) in seconds, when the audio is a piece of the media)."""
    decoding = decode_options(options)
    info, heard = first_pass(model, audio, decoding, options["batch_size"], on_info, on_progress)
    segments, report = covered(model, audio, heard, info, decoding, owned)
    return info, segments, report


def first_pass(model, audio, decoding, batch_size, on_info, on_progress):
    segments, info = start_decoding(model, audio, decoding, batch_size)
    on_info(info)
    heard = []
    # The generator decodes lazily: progress is reported as each segment comes; the segments
    # themselves are sent once coverage has repaired and completed them.
    for segment in segments:
        heard.append(segment_record(segment, float(info.duration), info.language, decoding))
        on_progress(heard[-1])
    return info, heard


def covered(model, audio, heard, info, decoding, owned=None):
    """(segments, coverage report): heard repaired and completed; within owned, only the words owned
    (piecewise.owned_segments), chosen before the repairs move any word."""
    duration = float(info.duration)
    regions = speech_coverage.speech_regions(audio, SAMPLING_RATE)

    def own(segments):
        return segments if owned is None else piecewise.owned_segments(segments, owned, regions)

    def transcribe_spans(spans):
        return [own(transcribe_span(model, audio, span, duration, info.language, decoding)) for span in spans]

    return speech_coverage.complete(own(heard), regions if owned is None else piecewise.clipped(regions, owned), duration, transcribe_spans)


def assert_model_speaks(model, name, options):
    """An English-only model given another language: faster-whisper would silently transcribe as English.

    The runner refuses this before the task starts (preflight); this is the last guard, for a model
    directory whose kind the runner could not tell.
    """
    if model.model.is_multilingual:
        return
    if options["task"] == "translate" or options["language"] not in (None, "en"):
        asked = "translation" if options["task"] == "translate" else f'language "{options["language"]}"'
        raise WorkerError("model_english_only", f'model "{name}" is English-only and cannot do {asked}: use a multilingual model such as "base"')


def transcribe_span(model, audio, span, duration, language, decoding):
    """Segments heard in span alone, timed from the start of the media.

    Decoded afresh: no previous text as prompt (the first pass's text is what lost this speech), nor
    the task's initial_prompt or hotwords (on a second or two of audio Whisper tends to echo a
    prompt back as words), no VAD cut, the language already detected (a second of speech is too
    little to detect it from). SPAN_MARGIN_SEC each side lets a word cut by the span's edge be
    heard whole.
    """
    start = max(0.0, span[0] - SPAN_MARGIN_SEC)
    end = min(duration, span[1] + SPAN_MARGIN_SEC)
    clip = audio[int(start * SAMPLING_RATE) : int(end * SAMPLING_RATE)]
    segments, _ = model.transcribe(clip, **{**decoding, "language": language, "vad_filter": False, "condition_on_previous_text": False, "initial_prompt": None, "hotwords": None})
    return [piecewise.shifted(segment_record(segment, end - start, language, decoding), start) for segment in segments]


def segment_record(segment, duration, language, decoding):
    """A segment as the protocol sends it, and fell_back for speech_coverage (removed before it is sent)."""
    schedule = decoding.get("temperature", 0.0)  # absent: faster-whisper's own schedule, from 0
    first_temperature = schedule[0] if isinstance(schedule, (list, tuple)) else schedule
    return {
        "start": clamp(segment.start, duration),
        "end": clamp(segment.end, duration),
        "text": segment.text.strip(),
        "no_speech_prob": min(1.0, max(0.0, float(segment.no_speech_prob))),
        "avg_logprob": max(-100.0, float(segment.avg_logprob)),  # max() also turns a NaN into a number
        "words": written_words(segment.words or [], duration, language),
        # Above the schedule's first temperature, the beam search failed Whisper's own checks and the
        # text is a sample, or the best of failed tries.
        "fell_back": float(segment.temperature) > first_temperature,
    }
