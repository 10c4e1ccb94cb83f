"""Freed arrays go back to the operating system at once.

glibc's malloc serves large blocks (from 128 KB) with mmap, which returns them on free, but after the
first such block is freed it raises that threshold (up to 32 MB) and serves the next ones from its
heap, which it keeps. For the worker, whose large blocks are audio, features and the model's
activations, of changing sizes, that left about 100 MB more resident at the peak of a 5-minute piece
(measured in spec §4.1). Fixing the threshold (what MALLOC_MMAP_THRESHOLD_ does) keeps it at 128 KB.
"""

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_blocks():
    """True when the C library took the setting (glibc); elsewhere (macOS, musl) nothing changes."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    return bool(mallopt and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
