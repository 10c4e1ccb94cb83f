"""speech_coverage.py without a model: word-time repair, uncovered speech, merging a retry.

Run by test/unit/speech-coverage.test.ts (python -m unittest), so it is part of the node suite.
"""

import unittest

import speech_coverage
from speech_coverage import complete, merge_retried, repair_words, uncovered_spans


def word(text, start, end):
    return {"text": text, "start": start, "end": end, "probability": 0.9}


def segment(*words):
    return {"start": words[0]["start"], "end": words[-1]["end"], "text": " ".join(w["text"] for w in words), "words": list(words), "no_speech_prob": 0.01, "avg_logprob": -0.2}


def times(segments):
    return [(w["text"], w["start"], w["end"]) for s in segments for w in s["words"]]


class RepairWords(unittest.TestCase):
    def test_a_word_of_no_length_stuck_at_the_end_of_the_media_is_dropped_and_its_segment_text_follows(self):
        repaired, counts = repair_words([segment(word("Pity", 44.0, 44.4), word("the", 44.4, 44.6), word("world,", 44.6, 45.1), word("or", 53.24, 53.24))], 53.24)
        self.assertEqual(times(repaired), [("Pity", 44.0, 44.4), ("the", 44.4, 44.6), ("world,", 44.6, 45.1)])
        self.assertEqual(repaired[0]["text"], "Pity the world,")
        self.assertEqual(repaired[0]["end"], 45.1)
        self.assertEqual(counts["dropped_at_end"], 1)

    def test_a_dropped_word_leaves_chinese_text_without_spaces_and_thai_with_its_phrase_space(self):
        chinese, _ = repair_words([segment(word("我们", 1.0, 1.4), word("今天", 1.4, 1.8), word("好", 9.0, 9.0))], 9.0)
        self.assertEqual(chinese[0]["text"], "我们今天")
        phrase = {**word("เรา", 1.9, 2.2), "space_before": True}
        thai, _ = repair_words([segment(word("วันนี้", 1.0, 1.4), word("ดี", 1.4, 1.8), phrase, word("ไป", 9.0, 9.0))], 9.0)
        self.assertEqual(thai[0]["text"], "วันนี้ดี เรา")

    def test_times_outside_the_media_are_clamped_and_a_word_wholly_past_the_end_is_dropped(self):
        repaired, counts = repair_words([segment(word("early", -0.3, 0.4), word("late", 9.8, 10.6)), segment(word("gone", 11.0, 11.5))], 10.0)
        self.assertEqual(times(repaired), [("early", 0.0, 0.4), ("late", 9.8, 10.0)])
        self.assertEqual(len(repaired), 1, "a segment whose words were all dropped is dropped")
        self.assertEqual(counts["clamped"], 3)
        self.assertEqual(counts["dropped_at_end"], 1)

    def test_a_word_starting_before_the_previous_one_ends_starts_where_it_ends(self):
        repaired, counts = repair_words([segment(word("one", 1.0, 1.5)), segment(word("two", 1.4, 1.9), word("three", 1.2, 1.3))], 5.0)
        self.assertEqual(times(repaired), [("one", 1.0, 1.5), ("two", 1.5, 1.9), ("three", 1.9, 1.92)])
        self.assertEqual(counts["reordered"], 2)
        starts = [start for _, start, _ in times(repaired)]
        self.assertEqual(starts, sorted(starts))

    def test_a_word_of_no_length_inside_the_media_takes_a_time_step_of_the_silence_beside_it(self):
        repaired, counts = repair_words([segment(word("a", 1.0, 1.0), word("b", 1.0, 1.5), word("c", 2.0, 2.0))], 5.0)
        self.assertEqual(times(repaired), [("a", 0.98, 1.0), ("b", 1.0, 1.5), ("c", 2.0, 2.02)])
        repaired, counts = repair_words([segment(word("x", 0.5, 0.8), word("y", 1.0, 1.0), word("z", 1.0, 1.4))], 5.0)
        self.assertEqual(times(repaired)[1], ("y", 0.98, 1.0))
        self.assertEqual(counts["widened"], 1)

    def test_words_already_in_order_and_inside_the_media_are_left_alone(self):
        segments = [segment(word("hello", 0.5, 0.9), word("there", 0.9, 1.3)), segment(word("again", 2.0, 2.4))]
        repaired, counts = repair_words(segments, 3.0)
        self.assertEqual(repaired, segments)
        self.assertEqual(sum(counts.values()), 0)


class UncoveredSpans(unittest.TestCase):
    def test_speech_of_a_second_or_more_without_words_is_uncovered_and_shorter_stretches_are_pauses(self):
        regions = [(0.0, 5.0), (6.0, 6.9), (8.0, 9.2)]
        words = [word("a", 0.1, 2.0), word("b", 2.5, 3.9)]
        self.assertEqual(uncovered_spans(regions, words), [(3.9, 5.0), (8.0, 9.2)])

    def test_a_word_overlapping_the_edge_of_a_region_covers_it(self):
        self.assertEqual(uncovered_spans([(1.0, 3.0)], [word("a", 0.5, 1.2), word("b", 2.1, 3.5)]), [])

    def test_a_region_without_any_words_is_uncovered_whole(self):
        self.assertEqual(uncovered_spans([(10.0, 12.5)], []), [(10.0, 12.5)])


class MergeRetried(unittest.TestCase):
    def test_a_word_the_first_pass_already_has_is_not_added_again(self):
        first = [segment(word("warm", 50.5, 50.9), word("thou", 50.9, 51.46))]
        retried = [segment(word("thou", 51.0, 51.46), word("feel'st", 51.46, 51.8), word("it", 51.8, 52.1), word("cold.", 52.1, 52.5))]
        merged, found, _ = merge_retried(first, (51.46, 52.67), retried)
        self.assertEqual(found, 3)
        self.assertEqual([w["text"] for w in speech_coverage.all_words(merged)], ["warm", "thou", "feel'st", "it", "cold."])
        self.assertEqual(merged[1]["text"], "feel'st it cold.")
        self.assertEqual((merged[1]["start"], merged[1]["end"]), (51.46, 52.5))

    def test_the_first_word_of_a_retried_region_survives_though_whisper_starts_it_in_the_margin_before(self):
        # A real run (LONG_TEXT, tiny.en): the first pass ended at 28.88 s and heard nothing after; the
        # retry of the region from 29.218 s put "This" at the start of its clip, 0.5 s before.
        first = [segment(word("a", 28.58, 28.6), word("while.", 28.6, 28.88))]
        retried = [segment(word("This", 28.72, 29.5), word("is", 29.5, 29.8), word("sentence", 29.8, 30.2), word("number", 30.2, 30.64))]
        merged, found, _ = merge_retried(first, (29.218, 33.918), retried)
        self.assertEqual([w["text"] for w in speech_coverage.all_words(merged)], ["a", "while.", "This", "is", "sentence", "number"])
        self.assertEqual(found, 4)

    def test_a_retry_in_the_middle_of_a_segment_splits_it_so_words_stay_in_time_order(self):
        first = [segment(word("one", 0.0, 1.0), word("four", 9.0, 9.5))]
        merged, _, _ = merge_retried(first, (2.0, 8.0), [segment(word("two", 3.0, 3.5), word("three", 6.0, 6.4))])
        self.assertEqual([s["text"] for s in merged], ["one", "two three", "four"])

    def test_replacing_drops_the_first_pass_words_in_the_span_and_keeps_those_around_it(self):
        first = [segment(word("keeps", 3.0, 3.4), word("laundry", 5.0, 5.6), word("endorsement", 5.6, 6.4), word("This", 9.2, 9.5))]
        merged, found, replaced = merge_retried(first, (4.8, 9.0), [segment(word("long", 4.4, 5.1), word("recording", 5.1, 5.7))], replace=True)
        self.assertEqual([w["text"] for w in speech_coverage.all_words(merged)], ["keeps", "long", "recording", "This"])
        self.assertEqual((found, replaced), (2, 2))


class SpeechOnsets(unittest.TestCase):
    def test_a_word_starting_in_the_silence_before_its_speech_starts_where_the_speech_starts(self):
        counts = {"early_start": 0}
        result = speech_coverage.speech_onsets([segment(word("while.", 28.6, 28.88), word("This", 28.72, 29.5), word("is", 29.5, 29.8))], [(24.29, 28.958), (29.218, 33.918)], counts)
        self.assertEqual(times(result), [("while.", 28.6, 28.88), ("This", 29.218, 29.5), ("is", 29.5, 29.8)])
        self.assertEqual(counts["early_start"], 1)


class Complete(unittest.TestCase):
    def test_uncovered_speech_is_transcribed_again_and_reported_as_retried(self):
        asked = []

        def fake_transcribe_spans(spans):
            asked.extend(spans)
            return [[segment(word("feel'st", 51.5, 51.8), word("cold.", 52.1, 52.5))]]

        # "thou" reaches over the pause to the next line: 0.96 s of speech, a long word, not a stretched one.
        heard = [segment(word("and", 44.0, 44.5), word("thou", 44.5, 51.46), word("or", 53.0, 53.0))]
        segments, report = complete(heard, [(44.0, 45.0), (51.0, 52.7)], 53.0, fake_transcribe_spans)
        self.assertEqual(asked, [(51.46, 52.7)])
        self.assertEqual([w["text"] for w in speech_coverage.all_words(segments)], ["and", "thou", "feel'st", "cold."])
        self.assertEqual(report["retried"], [{"start": 51.46, "end": 52.7, "words": 2, "reason": "no_words", "replaced": 0}])
        self.assertEqual(report["uncovered"], [])
        self.assertEqual(report["speech_with_words_pct"], 100.0)
        self.assertEqual(report["word_repairs"]["dropped_at_end"], 1)

    def test_speech_the_retry_hears_nothing_in_stays_uncovered_and_is_counted(self):
        segments, report = complete([segment(word("hello", 0.0, 1.0))], [(0.0, 1.0), (4.0, 6.0)], 8.0, lambda spans: [[] for _ in spans])
        self.assertEqual(report["speech_sec"], 3.0)
        self.assertEqual(report["speech_with_words_sec"], 1.0)
        self.assertEqual(report["speech_with_words_pct"], 33.3)
        self.assertEqual(report["retried"], [{"start": 4.0, "end": 6.0, "words": 0, "reason": "no_words", "replaced": 0}])
        self.assertEqual(report["uncovered"], [{"start": 4.0, "end": 6.0}])

    def test_nothing_is_transcribed_again_when_every_stretch_of_speech_has_words(self):
        def must_not_be_called(spans):
            raise AssertionError(f"asked to transcribe {spans}")

        _, report = complete([segment(word("hi", 0.2, 0.6), word("you", 0.7, 1.5))], [(0.1, 1.6)], 2.0, must_not_be_called)
        self.assertEqual((report["retried"], report["uncovered"], report["speech_with_words_pct"]), ([], [], 100.0))

    def test_a_region_whisper_only_heard_by_falling_back_is_heard_again_and_a_surer_retry_replaces_its_words(self):
        garbage = {**segment(word("the", 0.1, 0.3), word("laundry", 0.3, 1.2), word("endorsement", 1.2, 2.0)), "fell_back": True, "avg_logprob": -0.67}
        sure = segment(word("This", 0.0, 0.4), word("is", 0.4, 0.6), word("sentence", 0.6, 1.1), word("one.", 1.1, 1.9))
        segments, report = complete([garbage, segment(word("Two.", 3.1, 3.6))], [(0.05, 2.0), (3.0, 3.7)], 4.0, lambda spans: [[sure]])
        self.assertEqual([w["text"] for w in speech_coverage.all_words(segments)], ["This", "is", "sentence", "one.", "Two."])
        self.assertEqual(report["retried"], [{"start": 0.05, "end": 2.0, "words": 4, "reason": "doubtful", "replaced": 3}])
        self.assertNotIn("fell_back", segments[0], "an internal mark, not part of the protocol")

    def test_a_retry_less_sure_than_the_first_pass_only_adds_what_the_first_pass_lacks(self):
        first = {**segment(word("This", 0.1, 0.4), word("is", 0.4, 0.6)), "fell_back": True, "avg_logprob": -0.17}
        retry = {**segment(word("Miss", 0.1, 0.4), word("is", 0.4, 0.6), word("Sunday", 1.0, 1.8)), "avg_logprob": -0.4}
        segments, report = complete([first], [(0.05, 2.0)], 4.0, lambda spans: [[retry]])
        self.assertEqual([w["text"] for w in speech_coverage.all_words(segments)], ["This", "is", "Sunday"])
        self.assertEqual(report["retried"][0]["replaced"], 0)

    def test_words_stretched_over_a_sentence_are_heard_again_and_a_retry_with_more_words_replaces_them(self):
        # tiny.en once timed "and thou" over 3.6 s of speech that held 14 words.
        said = "In March Maria Lopez finished the hiring plan and sent it to the board".split()
        retry = segment(*[word(text, 10.0 + 0.25 * k, 10.0 + 0.25 * (k + 1)) for k, text in enumerate(said)])
        asked = []

        def fake_transcribe_spans(spans):
            asked.extend(spans)
            return [[retry]]

        heard = [segment(word("and", 10.0, 11.8), word("thou", 11.8, 13.6)), segment(word("Then", 13.7, 14.0))]
        segments, report = complete(heard, [(10.0, 14.0)], 15.0, fake_transcribe_spans)
        self.assertEqual(asked, [(10.0, 13.6)])
        self.assertEqual([w["text"] for w in speech_coverage.all_words(segments)], [*said, "Then"])
        self.assertEqual(report["retried"], [{"start": 10.0, "end": 13.6, "words": 14, "reason": "stretched", "replaced": 2}])

    def test_a_retry_of_stretched_words_that_hears_no_more_words_leaves_them(self):
        heard = [segment(word("and", 10.0, 11.8), word("thou", 11.8, 13.6))]
        segments, report = complete(heard, [(10.0, 13.6)], 15.0, lambda spans: [[segment(word("and", 10.0, 11.0), word("thou", 11.0, 13.6))]])
        self.assertEqual(times(segments), [("and", 10.0, 11.8), ("thou", 11.8, 13.6)])
        self.assertEqual(report["retried"], [{"start": 10.0, "end": 13.6, "words": 0, "reason": "stretched", "replaced": 0}])

    def test_a_word_said_slowly_or_reaching_over_a_pause_is_not_stretched(self):
        def must_not_be_called(spans):
            raise AssertionError(f"asked to transcribe {spans}")

        slow = [segment(word("Sooo", 1.0, 2.8), word("good.", 2.8, 3.3))]
        _, report = complete(slow, [(1.0, 3.3)], 5.0, must_not_be_called)
        self.assertEqual(report["retried"], [])
        over_a_pause = [segment(word("well", 1.0, 4.0), word("then.", 4.0, 4.4))]
        _, report = complete(over_a_pause, [(1.0, 1.6), (3.7, 4.4)], 5.0, must_not_be_called)
        self.assertEqual(report["retried"], [])

    def test_stretched_spans_sum_the_speech_beyond_each_word_over_a_run(self):
        words = [word("a", 0.0, 1.6), word("b", 1.6, 3.2), word("c", 3.2, 3.5), word("d", 3.5, 5.3)]
        self.assertEqual(speech_coverage.stretched_spans(words, [(0.0, 5.3)]), [(0.0, 3.2)])
        self.assertEqual(speech_coverage.stretched_spans(words, [(0.0, 5.3)], min_sec=1.5), [])

    def test_media_without_speech_is_fully_covered(self):
        _, report = complete([], [], 5.0, lambda spans: [])
        self.assertEqual((report["speech_sec"], report["speech_with_words_pct"]), (0, 100.0))


if __name__ == "__main__":
    unittest.main()
