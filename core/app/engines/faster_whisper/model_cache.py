"""The loaded model: one per worker, loaded when a request first needs it, and how it is laid out on the CPU's cores."""

import time

from request_common import WorkerError

class ModelCache:
    """The loaded model, keyed by (directory, device, compute_type, threads, lanes).

    At most one model stays loaded: a worker serves one request at a time, and the runner's pool
    already multiplies workers, so keeping a second model per worker would multiply memory (a large
    model is several GB) for a case, alternating models, that is rare within one runner.
    """

    def __init__(self):
        self.key = None
        self.model = None
        self.lanes = 1

    def get(self, directory, options):
        threads, lanes = cpu_layout(options)
        key = (directory, options["device"], options["compute_type"], threads, lanes)
        if key == self.key:
            return self.model, 0.0, True
        self.key, self.model = None, None  # drop the old model before the new one takes memory
        from faster_whisper import WhisperModel

        started = time.monotonic()
        try:
            model = WhisperModel(
                directory,
                device=options["device"],
                compute_type=options["compute_type"],
                cpu_threads=threads,
                num_workers=lanes,  # CTranslate2's replicas on one device share the weights
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise WorkerError("model_unavailable", f"model at {directory} could not be loaded: {error}")
        from log_mel import BlockwiseFeatureExtractor

        model.feature_extractor = BlockwiseFeatureExtractor(**model.feat_kwargs)
        self.key, self.model, self.lanes = key, model, lanes
        return model, time.monotonic() - started, False


def cpu_layout(options):
    """(CTranslate2 threads per lane, lanes) on the cores the runner gives this worker (lanes.py).

    One lane by default: lanes cost words near their cuts (spec §4.1, "accuracy first"). cpu_threads
    0 is the worker's cores on one lane, one thread each on several. On a GPU or batched, one lane:
    the device or the batches share out the work."""
    if options.get("batch_size", 1) > 1 or runs_on_gpu(options["device"]):
        return options["cpu_threads"], 1
    import lanes

    cores = lanes.configured_lanes()
    count = cores if options["lanes"] == 0 else options["lanes"]
    if count == 1:
        return options["cpu_threads"] or cores, 1
    return options["cpu_threads"] or 1, count


def runs_on_gpu(device):
    if device == "auto":
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    return device == "cuda"


def loaded_model(channel, cache, rid, name, directory, source, options):
    model, load_sec, cached = cache.get(directory, options)
    channel.send({"type": "model", "id": rid, "model": name, "path": directory, "source": source, "load_sec": load_sec, "cached": cached, "lanes": cache.lanes})
    return model
