"""heap.returning_large_blocks with a fake mallopt (named as such): the 1 MB threshold only for long media, and always set back to 32 MB.

The documented figures (README and spec §4.1: 1 MB for long media, glibc's 32 MB ceiling otherwise,
M_MMAP_THRESHOLD being mallopt's option -3) are written here, not read from the module.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import unittest

import heap


M_MMAP_THRESHOLD = -3
ONE_MB = 1024 * 1024
THIRTY_TWO_MB = 32 * 1024 * 1024


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
            self.assertEqual(heap.MALLOPT.calls, [(M_MMAP_THRESHOLD, ONE_MB)])
            raise RuntimeError("a piece failed")
        self.assertEqual(heap.MALLOPT.calls, [(M_MMAP_THRESHOLD, ONE_MB), (M_MMAP_THRESHOLD, THIRTY_TWO_MB)])


if __name__ == "__main__":
    unittest.main()
