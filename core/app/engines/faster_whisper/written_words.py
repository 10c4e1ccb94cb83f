"""Whisper's word pieces glued into the words a reader sees, per way of writing."""

from audio_time import clamp

# Written without spaces between words: faster-whisper splits these by character, not by space.
UNSPACED_LANGUAGES = {"zh", "ja", "th", "lo", "km", "my", "yue"}
# Of those, the ones that still put a space between phrases: the word after one says so.
PHRASE_SPACED_LANGUAGES = {"th", "lo", "km", "my"}


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
