"""How a request's media reaches the node that runs it: through Ray's object store, or by its own
path when the deployment declares that the nodes see that path (a shared mount)."""

import contextlib
import os
import shutil
import tempfile


def is_shared(path, shared_paths):
    """True when path lies under one of the folders the nodes see at the same path."""
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in (os.path.realpath(p) for p in shared_paths))


def put_media(path):
    """An object-store reference to the media's bytes, mapped rather than read into memory first:
    ray.put copies the pages straight into the store (the cost per MB is in spec §4)."""
    import numpy as np
    import ray

    if os.path.getsize(path) == 0:
        return ray.put(np.empty(0, dtype=np.uint8))
    return ray.put(np.memmap(path, dtype=np.uint8, mode="r"))


@contextlib.contextmanager
def materialized(media_bytes, original):
    """On the node: the shipped bytes as a temporary file named like the original (its extension
    can matter to FFmpeg's probing), removed afterwards. None: the original path is shared."""
    if media_bytes is None:
        yield original
        return
    folder = tempfile.mkdtemp(prefix="sophia-media-")
    try:
        local = os.path.join(folder, os.path.basename(original) or "media")
        with open(local, "wb") as out:
            out.write(memoryview(media_bytes))
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)
