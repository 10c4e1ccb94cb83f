"""written_words.written_words: Whisper's word pieces as a reader sees them, per way of writing.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import unittest
from types import SimpleNamespace

import written_words


def pieces(*texts):
    return [SimpleNamespace(word=text, start=k * 0.5, end=k * 0.5 + 0.4, probability=0.9) for k, text in enumerate(texts)]


class WrittenWords(unittest.TestCase):
    def test_a_piece_without_a_leading_space_joins_the_word_before_it_in_a_spaced_language(self):
        words = written_words.written_words(pieces(" It", " rose", " 12", "%."), 10, "en")
        self.assertEqual([word["text"] for word in words], ["It", "rose", "12%."])
        self.assertTrue(all("space_before" not in word for word in words))

    def test_thai_keeps_faster_whispers_split_and_marks_the_space_before_a_phrase(self):
        words = written_words.written_words(pieces(" วันนี้", "อากาศ", "ดี", " เรา", "ไป"), 10, "th")
        self.assertEqual([word["text"] for word in words], ["วันนี้", "อากาศ", "ดี", "เรา", "ไป"])
        self.assertEqual([word.get("space_before", False) for word in words], [True, False, False, True, False])

    def test_chinese_keeps_no_spaces(self):
        words = written_words.written_words(pieces(" 我们", "今天", " 讨论"), 10, "zh")
        self.assertEqual([word["text"] for word in words], ["我们", "今天", "讨论"])
        self.assertTrue(all("space_before" not in word for word in words))


if __name__ == "__main__":
    unittest.main()
