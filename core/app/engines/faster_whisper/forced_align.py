"""Forced alignment: given words, when they are said (the align request)."""

from audio_time import SAMPLING_RATE, WINDOW_SEC
from model_cache import loaded_model
from request_common import WorkerError, find_model, request_options

# Whisper's encoder sees WINDOW_SEC at a time: forced alignment of a longer span goes chunk by chunk,
# each chunk given the words that should take about ALIGN_CHUNK_SEC at the span's own pace, so a
# chunk's words fit its window even where the pace is uneven.
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
