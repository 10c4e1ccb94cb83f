"""Requests by type: each protocol line to its handler, and every failure to an error line."""

import json
import logging
import traceback

from forced_align import align
from model_cache import loaded_model
from request_common import WorkerError, find_model, request_options
from transcribe import transcribe

log = logging.getLogger("sophia.worker")


def load(channel, cache, request):
    """Loads a model before any request needs it: the worker the runner starts in place of one a
    cancel killed, so the next task does not wait for the model (spec §4, the engine process)."""
    rid = request["id"]
    options = request_options(request.get("options"))
    name = request.get("model")
    if not isinstance(name, str) or not name:
        raise WorkerError("internal", "a load request needs a string field model")
    directory, source = find_model(name, options)
    loaded_model(channel, cache, rid, name, directory, source, options)


def handle_line(channel, cache, line, handlers=None):
    """Answers one request line; handlers (by request type) replace REQUESTS, as in cluster mode (worker.py)."""
    try:
        request = json.loads(line)
    except ValueError as error:
        channel.error(None, "internal", f"request line is not JSON: {error}")
        return
    rid = request.get("id") if isinstance(request, dict) else None
    rid = rid if isinstance(rid, str) else None
    handler = (handlers or REQUESTS).get(request.get("type")) if isinstance(request, dict) else None
    if handler is None or rid is None:
        kind = request.get("type") if isinstance(request, dict) else type(request).__name__
        channel.error(rid, "internal", f'unknown request (type {kind!r}, id {rid!r}): expected {{"type": "transcribe", "align" or "load", "id": "..."}}')
        return
    try:
        handler(channel, cache, request)
    except WorkerError as error:
        log.warning("request %s failed: %s: %s", rid, error.code, error.message)
        channel.error(rid, error.code, error.message, traceback.format_exc())
    except Exception as error:
        log.exception("request %s failed", rid)
        channel.error(rid, "internal", f"{type(error).__name__}: {error}", traceback.format_exc())


REQUESTS = {"transcribe": transcribe, "align": align, "load": load}
