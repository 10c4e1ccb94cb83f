"""Word errors of a transcription against the text that was read: one normaliser for every side a
bench or test compares (Sophia, bare faster-whisper, whisper-ctranslate2).

Case, punctuation and apostrophes are normalised; numbers up to twenty and Roman numerals II..XX are
read as words. Languages written without spaces (Chinese, Japanese) are scored by characters.
The texts' old spellings ("tatter'd") count as errors for every side alike.
"""

import re
import unicodedata

NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18, "xix": 19, "xx": 20}
# Scored by characters: a word split is not the speaker's, and the reference has none.
CHARACTER_LANGUAGES = {"zh", "ja", "yue", "th", "lo", "km", "my"}


def normalise(text, language=None):
    """The tokens compared: lower-case words (characters for CHARACTER_LANGUAGES)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[-–—]", " ", text)
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " if ch != "'" else "" for ch in text)
    if language in CHARACTER_LANGUAGES:
        return [ch for ch in text if not ch.isspace()]
    tokens = []
    for token in text.split():
        if token.isdigit() and int(token) <= 20:
            token = NUMBER_WORDS[int(token)]
        elif token in ROMAN:
            token = NUMBER_WORDS[ROMAN[token]]
        tokens.append(token)
    return tokens


def errors(reference, hypothesis, language=None):
    """Edits (substitutions, deletions, insertions) that turn the reference's tokens into the hypothesis's."""
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[len(hyp)]


def wer(reference, hypothesis, language=None):
    return errors(reference, hypothesis, language) / max(1, len(normalise(reference, language)))
