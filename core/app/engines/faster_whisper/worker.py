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
"""

import itertools
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback

import heap
import models
import piecewise
import speech_coverage

# Before huggingface_hub is imported (faster_whisper imports it): it reads these once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

# Written without spaces between words: faster-whisper splits these by character, not by space.
UNSPACED_LANGUAGES = {"zh", "ja", "th", "lo", "km", "my", "yue"}
# Of those, the ones that still put a space between phrases: the word after one says so.
PHRASE_SPACED_LANGUAGES = {"th", "lo", "km", "my"}
SAMPLING_RATE = 16000
SPAN_MARGIN_SEC = 0.5
# Whisper's encoder sees 30 s at a time; forced alignment of a longer span goes chunk by chunk, each
# chunk given the words that should take about ALIGN_CHUNK_SEC at the span's own pace, so a chunk's
# words fit its window even where the pace is uneven.
WINDOW_SEC = 30.0
ALIGN_CHUNK_SEC = 20.0
ALIGN_CHUNK_OVERLAP_WORDS = 3
# Silence trimmed off a span before its words are aligned keeps this much around the speech: Whisper's
# alignment puts a span's first word at the very start of the audio it is given, silence or not.
ALIGN_SPEECH_PAD_SEC = 0.1
# A span with less audio than this per word has no room for its words: they are left untimed.
MIN_WORD_SEC = 0.02
ALIGN_VAD_OPTIONS = {"min_silence_duration_ms": 100, "speech_pad_ms": 0}
# Alignment reads the media forward (sample_reader.py), holding a span whole only up to this length
# (19 MB); a longer span's speech bounds are found window by window, ALIGN_SCAN_SEC at a time, by a
# second reader running ahead, so a span of an hour costs no more memory than one of five minutes.
ALIGN_WHOLE_SPAN_SEC = 300.0
ALIGN_SCAN_SEC = 60.0

log = logging.getLogger("sophia.worker")


class WorkerError(Exception):
    """A failure with a protocol error code: model_unavailable, media_unreadable or internal."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def take_stdout():
    """Keeps the real stdout for protocol lines and points fd 1 at stderr.

    Redirecting the file descriptor (not just sys.stdout) also catches native code that prints
    (CTranslate2, FFmpeg): one stray line there would desynchronise the protocol.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


class Channel:
    def __init__(self, stream):
        self.stream = stream

    def send(self, message):
        # allow_nan=False: NaN is not JSON; better an internal error than a line the runner rejects.
        self.stream.write(json.dumps(message, allow_nan=False, ensure_ascii=False) + "\n")
        self.stream.flush()

    def error(self, request_id, code, message, trace=""):
        self.send({"type": "error", "id": request_id, "code": code, "message": message, "traceback": trace})


# ---------------------------------------------------------------------------------------------
# The loaded model


class ModelCache:
    """The loaded model, keyed by (directory, device, compute_type, threads, lanes).

    At most one model stays loaded: a worker serves one request at a time, and the runner's pool
    already multiplies workers, so keeping a second model per worker would multiply memory (a large
    model is several GB) for a case, alternating models, that is rare within one runner.
    """

    def __init__(self):
        self.key = None
        self.model = None
        self.lanes = 1

    def get(self, directory, options):
        threads, lanes = cpu_layout(options)
        key = (directory, options["device"], options["compute_type"], threads, lanes)
        if key == self.key:
            return self.model, 0.0, True
        self.key, self.model = None, None  # drop the old model before the new one takes memory
        from faster_whisper import WhisperModel

        started = time.monotonic()
        try:
            model = WhisperModel(
                directory,
                device=options["device"],
                compute_type=options["compute_type"],
                cpu_threads=threads,
                num_workers=lanes,  # CTranslate2's replicas on one device share the weights
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise WorkerError("model_unavailable", f"model at {directory} could not be loaded: {error}")
        from log_mel import BlockwiseFeatureExtractor

        model.feature_extractor = BlockwiseFeatureExtractor(**model.feat_kwargs)
        self.key, self.model, self.lanes = key, model, lanes
        return model, time.monotonic() - started, False


def cpu_layout(options):
    """(CTranslate2 threads per lane, lanes): with cpu_threads 0 on a CPU, one thread per lane and a
    lane per core the runner gives this worker (lanes.py says why); otherwise one lane, as asked.
    The batched pipeline is one lane too: its batches are what share out its work."""
    if options["cpu_threads"] != 0 or options.get("batch_size", 1) > 1 or runs_on_gpu(options["device"]):
        return options["cpu_threads"], 1
    import lanes

    return 1, lanes.configured_lanes()


def runs_on_gpu(device):
    if device == "auto":
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    return device == "cuda"


# ---------------------------------------------------------------------------------------------
# Requests


def request_options(raw):
    # The runner sends every option, validated and with its defaults (options.ts); none are kept here.
    if not isinstance(raw, dict):
        raise WorkerError("internal", "options must be an object with every engine option (see options.ts)")
    return raw


def find_model(name, options):
    try:
        return models.resolve_model(name, options["allow_download"])
    except models.ModelUnavailable as error:
        raise WorkerError("model_unavailable", str(error))


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


def loaded_model(channel, cache, rid, name, directory, source, options):
    model, load_sec, cached = cache.get(directory, options)
    channel.send({"type": "model", "id": rid, "model": name, "path": directory, "source": source, "load_sec": load_sec, "cached": cached, "lanes": cache.lanes})
    return model


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
    return info, unheard_for_tests(heard)


def unheard_for_tests(heard, environ=os.environ):
    """A test seam: $SOPHIA_ASR_UNHEAR ("start-end", seconds of the audio one transcription is given,
    the media's own for media of one piece on one lane) takes the first pass's words said there
    away, as if Whisper had not heard them. Which speech a model loses depends on the CPU's
    arithmetic (sonnet002's closing line was lost with the previous text as prompt on one machine
    and heard on the next), so the integration tests make the loss themselves and show the coverage
    step hearing that speech again with the real model. Unset, heard is returned as it is."""
    raw = environ.get("SOPHIA_ASR_UNHEAR")
    if not raw:
        return heard
    try:
        start, end = (float(value) for value in raw.split("-"))
    except ValueError:
        raise WorkerError("internal", f'SOPHIA_ASR_UNHEAR must be "start-end" in seconds, got {raw!r}')
    kept = []
    for segment in heard:
        words = [word for word in segment["words"] if not start <= (word["start"] + word["end"]) / 2 < end]
        if words:
            kept.append({**speech_coverage.with_words(segment, words, segment["words"]), "start": words[0]["start"], "end": words[-1]["end"]})
    return kept


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


DECODING_OPTIONS = (
    "language",
    "task",
    "beam_size",
    "temperature",
    "initial_prompt",
    "hotwords",
    "vad_filter",
    "condition_on_previous_text",
    "hallucination_silence_threshold",
)


def decode_options(options):
    """faster-whisper's transcribe() arguments for a request, as the runner resolved them (options.ts; the choices are measured in spec §4.1)."""
    return {**{key: options[key] for key in DECODING_OPTIONS}, "word_timestamps": True}


def start_decoding(model, audio, decoding, batch_size):
    """faster-whisper's lazy segment generator and its info; above batch size 1, voiced chunks are decoded in batches."""
    if batch_size > 1:
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(model).transcribe(audio, batch_size=batch_size, **decoding)
    return model.transcribe(audio, **decoding)


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


def written_words(words, duration, language):
    """Words as a reader sees them: "12" followed by "%" is "12%".

    Whisper marks the start of a written word with a leading space; faster-whisper glues only some
    punctuation to its word, so a piece without that space ("%", "'s" after a number) belongs to the
    word before it. Languages written without spaces keep faster-whisper's own split.
    """
    glue = language not in UNSPACED_LANGUAGES
    phrase_spaced = language in PHRASE_SPACED_LANGUAGES
    result = []
    for word in words:
        text = word.word.strip()
        if not text:
            continue
        probability = min(1.0, max(0.0, float(word.probability)))
        if glue and result and not word.word[:1].isspace():
            previous = result[-1]
            previous["text"] += text
            previous["end"] = max(previous["end"], clamp(word.end, duration))
            previous["probability"] = min(previous["probability"], probability)
            continue
        written = {"text": text, "start": clamp(word.start, duration), "end": clamp(word.end, duration), "probability": probability}
        if phrase_spaced and word.word[:1].isspace():
            written["space_before"] = True
        result.append(written)
    return result


def clamp(seconds, duration):
    # Whisper's timestamps come in 20 ms steps and can overshoot the end of the audio slightly.
    return min(max(0.0, float(seconds)), duration)


# ---------------------------------------------------------------------------------------------
# Forced alignment: given words, when they are said


def align(channel, cache, request):
    """Times the given words of each span on the audio between its start and end.

    The refine stage asks for this where a script has words the transcription missed or misheard:
    the text is known, only its timing is wanted. Whisper's cross-attention alignment (what
    faster-whisper's word timestamps use) places the words' tokens on the encoded audio.
    """
    rid = request["id"]
    options = request_options(request.get("options"))
    name = request.get("model")
    media = request.get("media")
    spans = request.get("spans")
    if not isinstance(name, str) or not name or not isinstance(media, str) or not media or not isinstance(spans, list):
        raise WorkerError("internal", "an align request needs string fields model and media and a list of spans")

    import audio_pieces
    import sample_reader

    directory, source = find_model(name, options)
    try:
        with sample_reader.SampleReader(media) as audio:
            model = loaded_model(channel, cache, rid, name, directory, source, options)

            from faster_whisper.tokenizer import Tokenizer

            language = request.get("language") if model.model.is_multilingual else "en"
            tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language or "en")
            done = [0]

            def span_done():
                done[0] += 1
                channel.send({"type": "align_progress", "id": rid, "done": done[0], "total": len(spans)})

            channel.send({"type": "align_progress", "id": rid, "done": 0, "total": len(spans)})
            results = align_spans(model, tokenizer, audio, spans, cache.lanes, span_done)
    except audio_pieces.MediaUnreadable as error:  # also from a block deep into the media
        raise WorkerError("media_unreadable", str(error))
    channel.send({"type": "aligned", "id": rid, "spans": results})


def align_spans(model, tokenizer, audio, spans, lanes, span_done):
    """Per span, [{start, end, probability}] per word (or None, as align_span), the spans on the lanes.

    The media is read here, forward, span after span in time order (sample_reader.py), and each span
    that fits Whisper's window is handed to a lane with its samples: its encoder pass and alignment
    run beside the next span's reading and the other lanes' spans (CTranslate2's replicas, lanes.py).
    A longer span is aligned here, chunk by chunk. At most two spans per lane wait, so the samples
    held stay a few windows' worth.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    results = [None] * len(spans)
    waiting = deque()

    def finish(k, future):
        results[k] = future.result()
        span_done()

    with ThreadPoolExecutor(max_workers=max(1, lanes), thread_name_prefix="align") as pool:
        # In time order, so the reader only goes forward; each span's result stays in its place.
        for k in sorted(range(len(spans)), key=lambda k: max(0.0, float(spans[k].get("start", 0.0)))):
            span = spans[k]
            words = [str(word) for word in span.get("words", [])]
            start = max(0.0, float(span.get("start", 0.0)))
            end = max(start, float(span.get("end", float("inf"))))
            if words:
                start, end = speech_bounds(audio, start, end)
                audio.forget(int(start * SAMPLING_RATE))
            if not words or end - start > WINDOW_SEC or end - start < MIN_WORD_SEC * len(words):
                results[k] = aligned_in_bounds(model, tokenizer, audio, start, end, words)
                span_done()
                continue
            piece = audio.samples(int(start * SAMPLING_RATE), int(end * SAMPLING_RATE))
            waiting.append((k, pool.submit(align_window, model, tokenizer, piece, start, end, words)))
            while len(waiting) > 2 * max(1, lanes):
                finish(*waiting.popleft())
        while waiting:
            finish(*waiting.popleft())
    return results


def align_span(model, tokenizer, audio, start, end, words):
    """[{start, end, probability}] per word, within [start, end] (clamped to the media); None when the
    span holds no audio to align. audio: the media's samples (sample_reader.SampleReader)."""
    if not words:
        return []
    start, end = speech_bounds(audio, start, end)
    audio.forget(int(start * SAMPLING_RATE))
    return aligned_in_bounds(model, tokenizer, audio, start, end, words)


def aligned_in_bounds(model, tokenizer, audio, start, end, words):
    """align_span once the span is trimmed to its speech: in one window when it fits, else chunk by chunk."""
    if not words:
        return []
    if end - start < MIN_WORD_SEC * len(words):
        return None
    if end - start <= WINDOW_SEC:
        return align_window(model, tokenizer, audio.samples(int(start * SAMPLING_RATE), int(end * SAMPLING_RATE)), start, end, words)
    chars = [len(word) + 1 for word in words]
    per_char = (end - start) / sum(chars)
    timed = []
    at, first = start, 0
    while first < len(words):
        last, budget = first, 0.0
        while last < len(words) and (last == first or budget + chars[last] * per_char <= ALIGN_CHUNK_SEC):
            budget += chars[last] * per_char
            last += 1
        final = last == len(words) and end - at <= WINDOW_SEC
        chunk_end = min(end, at + WINDOW_SEC)
        piece = audio.samples(int(at * SAMPLING_RATE), int(chunk_end * SAMPLING_RATE))
        chunk = align_window(model, tokenizer, piece, at, chunk_end, words[first:last])
        # Alignment runs to the end of the audio it is given: a chunk's last words are stretched over
        # whatever speech follows them, so only the words before them are kept, and the next chunk
        # starts where the kept ones end.
        keep = len(chunk) if final else max(1, len(chunk) - ALIGN_CHUNK_OVERLAP_WORDS)
        timed.extend(chunk[:keep])
        at, first = max(at, chunk[keep - 1]["end"]), first + keep
        audio.forget(int(at * SAMPLING_RATE))
        if at >= end and first < len(words):
            return None  # the words did not fit their span: better no times than squeezed ones
    return timed


def speech_bounds(audio, start, end):
    """The span clamped to the media and without the silence at either end, by faster-whisper's bundled Silero VAD.

    A span of up to ALIGN_WHOLE_SPAN_SEC is held and searched whole; a longer one is searched by the
    reader's lookahead, a window at a time (scanned_speech_bounds).
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio.forget(int(start * SAMPLING_RATE))  # the media up to the span is decoded and dropped, not held
    start = audio.clamp(start)
    near_end = audio.clamp(min(end, start + ALIGN_WHOLE_SPAN_SEC))
    if end > start + ALIGN_WHOLE_SPAN_SEC and near_end == start + ALIGN_WHOLE_SPAN_SEC:
        return scanned_speech_bounds(audio.lookahead(), start, end)
    end = near_end
    lo, hi = int(start * SAMPLING_RATE), int(end * SAMPLING_RATE)
    if hi - lo < SAMPLING_RATE // 10:
        return start, end
    pad = int(ALIGN_SPEECH_PAD_SEC * SAMPLING_RATE)
    regions = get_speech_timestamps(audio.samples(lo, hi), VadOptions(**ALIGN_VAD_OPTIONS))
    if not regions:
        return start, end
    return (lo + max(0, regions[0]["start"] - pad)) / SAMPLING_RATE, (lo + min(hi - lo, regions[-1]["end"] + pad)) / SAMPLING_RATE


def scanned_speech_bounds(ahead, start, end):
    """speech_bounds of a span longer than ALIGN_WHOLE_SPAN_SEC, read by a reader of its own that
    forgets each window once searched: the first and last speech of the windows, and where the media ends."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    lo = int(start * SAMPLING_RATE)
    hi = None if end == float("inf") else int(end * SAMPLING_RATE)
    step = int(ALIGN_SCAN_SEC * SAMPLING_RATE)
    ahead.forget(lo)
    first = last = None
    at = lo
    while hi is None or at < hi:
        asked = step if hi is None else min(step, hi - at)
        window = ahead.samples(at, at + asked)
        if window.shape[0] >= SAMPLING_RATE // 10:
            regions = get_speech_timestamps(window, VadOptions(**ALIGN_VAD_OPTIONS))
            if regions:
                first = at + regions[0]["start"] if first is None else first
                last = at + regions[-1]["end"]
        at += window.shape[0]
        ahead.forget(at)
        if window.shape[0] < asked:
            end = at / SAMPLING_RATE  # the media ends within the span
            break
    if first is None:
        return start, end
    pad = int(ALIGN_SPEECH_PAD_SEC * SAMPLING_RATE)
    return max(lo, first - pad) / SAMPLING_RATE, min(at, last + pad) / SAMPLING_RATE


def align_window(model, tokenizer, piece, start, end, words):
    """The words timed on piece, the media's samples from start to end (seconds, at most a window)."""
    import numpy as np
    from faster_whisper.audio import pad_or_trim

    features = model.feature_extractor(piece)
    frames = min(features.shape[-1], int(WINDOW_SEC * SAMPLING_RATE / model.feature_extractor.hop_length))
    encoded = model.encode(pad_or_trim(features))
    tokens, bounds = [], [0]
    for word in words:
        # Each word on its own with its leading space: the same tokens as the whole text gives, since
        # Whisper's pre-tokenizer splits at spaces, and the word boundaries come for free.
        tokens.extend(tokenizer.encode(" " + word))
        bounds.append(len(tokens))
    result = model.model.align(encoded, tokenizer.sot_sequence, [tokens], frames, median_filter_width=7)[0]
    text_indices = np.array([pair[0] for pair in result.alignments])
    time_indices = np.array([pair[1] for pair in result.alignments])
    jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
    jump_times = time_indices[jumps] / model.tokens_per_second
    probabilities = result.text_token_probs
    timed = []
    for k in range(len(words)):
        lo, hi = bounds[k], bounds[k + 1]
        word_start = start + float(jump_times[min(lo, len(jump_times) - 1)])
        word_end = start + float(jump_times[min(hi, len(jump_times) - 1)])
        probability = float(np.mean(probabilities[lo:hi])) if hi > lo else 0.0
        timed.append({"start": min(word_start, end), "end": min(max(word_start, word_end), end), "probability": min(1.0, max(0.0, probability))})
    return timed


def load(channel, cache, request):
    """Loads a model before any request needs it: the worker the runner starts in place of one a
    cancel killed, so the next task does not wait for the model (spec §4, the engine process)."""
    rid = request["id"]
    options = request_options(request.get("options"))
    name = request.get("model")
    if not isinstance(name, str) or not name:
        raise WorkerError("internal", "a load request needs a string field model")
    directory, source = find_model(name, options)
    _, load_sec, cached = cache.get(directory, options)
    channel.send({"type": "model", "id": rid, "model": name, "path": directory, "source": source, "load_sec": load_sec, "cached": cached, "lanes": cache.lanes})


def handle_line(channel, cache, line):
    try:
        request = json.loads(line)
    except ValueError as error:
        channel.error(None, "internal", f"request line is not JSON: {error}")
        return
    rid = request.get("id") if isinstance(request, dict) else None
    rid = rid if isinstance(rid, str) else None
    handler = REQUESTS.get(request.get("type")) if isinstance(request, dict) else None
    if handler is None or rid is None:
        kind = request.get("type") if isinstance(request, dict) else type(request).__name__
        channel.error(rid, "internal", f'unknown request (type {kind!r}, id {rid!r}): expected {{"type": "transcribe", "align" or "load", "id": "..."}}')
        return
    try:
        handler(channel, cache, request)
    except WorkerError as error:
        log.warning("request %s failed: %s: %s", rid, error.code, error.message)
        channel.error(rid, error.code, error.message, traceback.format_exc())
    except Exception as error:
        log.exception("request %s failed", rid)
        channel.error(rid, "internal", f"{type(error).__name__}: {error}", traceback.format_exc())


REQUESTS = {"transcribe": transcribe, "align": align, "load": load}


def exit_when_orphaned(parent):
    # A runner killed with SIGKILL cannot stop its worker; without this watch the worker would decode
    # on, holding a core, until its next write to the dead runner fails (up to a 30 s window later).
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


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
        channel.send({"type": "ready", "pid": os.getpid(), "faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__})
        for line in sys.stdin:
            if line.strip():
                handle_line(channel, cache, line)
    except BrokenPipeError:
        return 0  # the runner went away; nobody is left to answer
    return 0


if __name__ == "__main__":
    sys.stdin.reconfigure(encoding="utf-8")
    sys.exit(main())
