"""What every request of the worker shares: the error it fails with, its options, its model."""

import models

class WorkerError(Exception):
    """A failure with a protocol error code: model_unavailable, media_unreadable or internal."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def request_options(raw):
    # The runner sends every option, validated and with its defaults (options.ts); none are kept here.
    if not isinstance(raw, dict):
        raise WorkerError("internal", "options must be an object with every engine option (see options.ts)")
    return raw


def find_model(name, options):
    try:
        return models.resolve_model(name, options["allow_download"])
    except models.ModelUnavailable as error:
        raise WorkerError("model_unavailable", str(error))
