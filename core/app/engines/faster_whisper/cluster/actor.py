"""The Ray actor that serves engine requests on a cluster node.

It holds one warm WhisperModel (the worker's own model cache: one model per actor, keyed by model,
device and compute type) and runs each request with the worker's own code, so transcription and
alignment on a node are those of the local worker line for line. The worker's modules reach the node
through the driver's runtime_env (driver.py). A request is a generator: each protocol message the
worker would write to stdout is yielded as it comes, so the runner sees progress as it happens.
"""

import json
import os
import queue
import socket
import threading

from cluster import media as shipped

_END = object()


class QueueChannel:
    """The worker's Channel, writing into a queue instead of stdout; an error is told where it happened."""

    def __init__(self, messages, node, local_media, original_media):
        self.messages = messages
        self.node = node
        self.local_media = local_media
        self.original_media = original_media

    def send(self, message):
        self.messages.put(message)

    def error(self, request_id, code, message, trace=""):
        # The media's temporary copy on the node means nothing to the user: name their file.
        if self.local_media != self.original_media:
            message = message.replace(self.local_media, self.original_media)
        if code == "model_unavailable":
            message = f"{message} (on cluster node {self.node})"
        self.messages.put({"type": "error", "id": request_id, "code": code, "message": message, "traceback": trace})


class WhisperActor:
    def __init__(self, settings):
        # The worker's settings, as the local worker gets them from the runner (models dir, download
        # rule, lanes): set before its modules are imported, which read them.
        os.environ.update(settings)
        import dispatch
        import heap
        import model_cache
        import vad_batches

        heap.set_threshold(heap.USUAL_THRESHOLD_BYTES)
        vad_batches.install()
        self.handle_line = dispatch.handle_line
        self.cache = model_cache.ModelCache()
        self.node_name = describe_node()

    def node(self):
        """Where this actor runs: named in errors, and by the tests that stop its node."""
        import ray

        return {"name": self.node_name, "node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    def run(self, request, media_bytes):
        """Yields the protocol messages of one request, the last being done, aligned, model (load) or error."""
        original = request.get("media")
        with shipped.materialized(media_bytes, original) as local:
            local_request = dict(request, media=local) if original is not None else request
            messages = queue.SimpleQueue()
            channel = QueueChannel(messages, self.node_name, local, original)

            def serve():
                try:
                    self.handle_line(channel, self.cache, json.dumps(local_request))
                finally:
                    messages.put(_END)

            # The worker's handlers write as they go; a thread lets this generator hand each message on as it is written.
            thread = threading.Thread(target=serve, daemon=True)
            thread.start()
            while (message := messages.get()) is not _END:
                yield message
            thread.join()


def describe_node():
    import ray

    context = ray.get_runtime_context()
    return f"{socket.gethostname()} ({ray.util.get_node_ip_address()}, node {context.get_node_id()[:12]})"
