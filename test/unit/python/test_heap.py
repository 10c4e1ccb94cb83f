"""heap.returning_large_blocks with a fake mallopt (named as such): the 128 KB threshold only for long media, and always set back.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import unittest

import heap


class FakeMallopt:
    def __init__(self):
        self.calls = []

    def __call__(self, option, value):
        self.calls.append((option, value))
        return 1


class ReturningLargeBlocks(unittest.TestCase):
    def setUp(self):
        self.real, heap.MALLOPT = heap.MALLOPT, FakeMallopt()

    def tearDown(self):
        heap.MALLOPT = self.real

    def test_short_media_leaves_the_threshold_alone(self):
        with heap.returning_large_blocks(False):
            pass
        self.assertEqual(heap.MALLOPT.calls, [])

    def test_long_media_lowers_it_for_the_request_and_sets_it_back_even_on_failure(self):
        with self.assertRaises(RuntimeError), heap.returning_large_blocks(True):
            self.assertEqual(heap.MALLOPT.calls, [(heap.M_MMAP_THRESHOLD, heap.LONG_MEDIA_THRESHOLD_BYTES)])
            raise RuntimeError("a piece failed")
        self.assertEqual(heap.MALLOPT.calls[-1], (heap.M_MMAP_THRESHOLD, heap.USUAL_THRESHOLD_BYTES))


if __name__ == "__main__":
    unittest.main()
