"""The protocol's own stdout: protocol lines only, one JSON object each; everything else goes to stderr."""

import json
import os
import sys

def take_stdout():
    """Keeps the real stdout for protocol lines and points fd 1 at stderr.

    Redirecting the file descriptor (not just sys.stdout) also catches native code that prints
    (CTranslate2, FFmpeg): one stray line there would desynchronise the protocol.
    """
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


class Channel:
    def __init__(self, stream):
        self.stream = stream

    def send(self, message):
        # allow_nan=False: NaN is not JSON; better an internal error than a line the runner rejects.
        self.stream.write(json.dumps(message, allow_nan=False, ensure_ascii=False) + "\n")
        self.stream.flush()

    def error(self, request_id, code, message, trace=""):
        self.send({"type": "error", "id": request_id, "code": code, "message": message, "traceback": trace})
