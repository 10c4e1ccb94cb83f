"""cluster/driver.py's Relay: what the runner is sent when a request runs again on another actor after
a node died. The channel is a fake that records what it is sent, named as such; Ray is not needed.

Run by test/unit/speech-coverage.test.ts with the rest of test/unit/python.
"""

import unittest

from cluster.driver import Relay


class FakeChannel:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def attempt(rid, positions, segments, last=None):
    """The messages one actor sends for a transcribe request, cut short unless last is given."""
    messages = [{"type": "model", "id": rid}, {"type": "info", "id": rid, "duration": 9.0}]
    messages += [{"type": "progress", "id": rid, "position": p, "text": ""} for p in positions]
    messages += [{"type": "segment", "id": rid, "start": s, "end": s + 1, "text": f"s{s:g}"} for s in segments]
    return messages + ([last] if last else [])


class RelayTest(unittest.TestCase):
    def test_a_retried_transcription_reaches_the_runner_as_one(self):
        channel = FakeChannel()
        relay = Relay(channel, "transcribe")
        for message in attempt("r", [1.0, 2.0], [0.0]):  # the node died here
            relay.forward(message)
        self.assertFalse(relay.finished)
        relay.again()
        for message in attempt("r", [1.0, 2.0, 3.0], [0.0, 2.0], {"type": "done", "id": "r"}):
            relay.forward(message)
        self.assertTrue(relay.finished)
        self.assertEqual([m["type"] for m in channel.sent], ["model", "info", "progress", "progress", "progress", "segment", "segment", "done"])
        self.assertEqual([m["position"] for m in channel.sent if m["type"] == "progress"], [1.0, 2.0, 3.0])
        self.assertEqual([m["text"] for m in channel.sent if m["type"] == "segment"], ["s0", "s2"])

    def test_segments_of_a_failed_attempt_are_never_sent(self):
        channel = FakeChannel()
        relay = Relay(channel, "transcribe")
        for message in attempt("r", [1.0], [0.0], {"type": "error", "id": "r", "code": "media_unreadable", "message": "x"}):
            relay.forward(message)
        self.assertTrue(relay.finished)
        self.assertEqual([m["type"] for m in channel.sent], ["model", "info", "progress", "error"])

    def test_a_load_is_answered_by_its_model_line(self):
        channel = FakeChannel()
        relay = Relay(channel, "load")
        relay.forward({"type": "model", "id": "l"})
        self.assertTrue(relay.finished)


if __name__ == "__main__":
    unittest.main()
