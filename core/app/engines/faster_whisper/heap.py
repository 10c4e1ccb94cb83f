"""When freed arrays go back to the operating system: a trade between memory and CPU time.

glibc's malloc serves large blocks with mmap, which returns them on free. After the first such block
is freed it raises that threshold (from 128 KB up to 32 MB) and serves the next ones from its heap,
which it keeps. A threshold fixed at 128 KB (what MALLOC_MMAP_THRESHOLD_ does) kept about 100 MB less
resident at the peak of a 5-minute piece of long media (spec §4.1), but CTranslate2 then gets fresh
zeroed pages for each large activation: about 40 % more CPU time (spec §4.1). So the worker pays it
only for long media, where memory is the limit that matters, and otherwise fixes the threshold at
glibc's own ceiling (32 MB): as fast as the sliding default, and, unlike it, a fixed threshold can
be set back after long media. With lanes (lanes.py) two threads taking and returning fresh pages
contend in the kernel: 128 KB then cost 44 % more wall time on ten minutes of speech than 32 MB,
1 MB 19 %, for 7 MiB more at the peak (spec §4.1, "revised with lanes"), so long media uses 1 MB.
"""

import contextlib
import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
LONG_MEDIA_THRESHOLD_BYTES = 1024 * 1024
USUAL_THRESHOLD_BYTES = 32 * 1024 * 1024


def _mallopt():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return None


MALLOPT = _mallopt()


def set_threshold(size):
    """True when the C library took the setting (glibc); elsewhere (macOS, musl) nothing changes."""
    return bool(MALLOPT and MALLOPT(M_MMAP_THRESHOLD, size))


@contextlib.contextmanager
def returning_large_blocks(long_media):
    """For the length of a request: large blocks go back at once when the media is long."""
    if not long_media:
        yield
        return
    set_threshold(LONG_MEDIA_THRESHOLD_BYTES)
    try:
        yield
    finally:
        set_threshold(USUAL_THRESHOLD_BYTES)
