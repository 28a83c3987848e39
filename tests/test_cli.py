"""What the commands share: --help and argument errors answer without TensorFlow, and a
real command says what it is about to do before TensorFlow starts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tf_lvae.cli import begin

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    "training.fit",
    "training.evaluate",
    "training.combine_evaluations",
    "training.plots",
    "training.compare",
    "training.reproduce",
    "export.saved_model",
    "export.keras_model",
)
HEAVY = ("tensorflow", "keras", "tensorflow_probability", "tensorflow_datasets", "matplotlib")
# Runs a command's main as `python -m` does, then names the heavy modules it imported.
PROBE = f"""
import runpy, sys
sys.argv = sys.argv[1:]
status = 0
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
except SystemExit as exit_:
    status = exit_.code
print("HEAVY", [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)
sys.exit(status)
"""


def command(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The finished `python -c PROBE MODULE ARGS...`."""
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("module", COMMANDS)
def test_help_answers_at_once_without_tensorflow(module):
    done = command(module, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {module}")
    assert done.stderr.strip() == "HEAVY []"  # no TensorFlow, Keras, TFP, tfds or matplotlib


@pytest.mark.parametrize("module", COMMANDS)
def test_argument_errors_answer_at_once_without_tensorflow(module):
    done = command(module, "--no-such-option")
    assert done.returncode == 2
    message, heavy = done.stderr.strip().splitlines()
    assert message.startswith(f"python -m {module}: error:") and "(see --help)" in message
    assert heavy == "HEAVY []"


def test_a_real_command_says_what_it_does_before_tensorflow_starts(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    missing = tmp_path / "missing.npz"
    done = command(
        "training.fit", "--dataset", f"npz:{missing}", "--out", str(tmp_path / "run"), env=env
    )
    assert done.returncode == 2
    assert done.stdout.splitlines()[0] == (
        f"training a new run of npz:{missing} in {tmp_path / 'run'}"
    )
    lines = done.stderr.strip().splitlines()
    assert "'tensorflow'" in lines[-1]  # started after the first line
    assert lines[-2].startswith(f"error: {missing}: no such file")
    assert not any("cpu_feature_guard" in line or "cuInit" in line for line in lines)


def test_tensorflow_logging_is_quiet_unless_asked(monkeypatch, capsys):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    begin("first", verbose=True)
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    begin("second", verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user's own setting is kept
    begin("third", verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert capsys.readouterr().out == "first\nsecond\nthird\n"


def test_the_export_help_states_the_librarys_chunk_size():
    from export.saved_model import build_parser
    from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE

    assert f"(default: {DEFAULT_IW_CHUNK_SIZE}," in " ".join(build_parser().format_help().split())


def test_importing_the_package_registers_its_keras_classes_for_load_model():
    """As every Keras package: `import tf_lvae` is all keras.saving.load_model needs (the
    commands above stay light all the same)."""
    model = ROOT / "docs/results/mnist-2000-epochs/vae-bn-wu/model.keras"
    load = f"import tf_lvae, keras; print(type(keras.saving.load_model({str(model)!r})).__name__)"
    done = subprocess.run(
        [sys.executable, "-c", load], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "HierarchicalVAE"


RUN = "docs/results/conv-mnist/vae"  # a run directory (config.json)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["training.evaluate", "--run", "README.md"], "--run: README.md is a file: give a run"),
        (["training.plots", "--run", "README.md"], "--run: README.md is a file"),
        (["export.saved_model", "--run", "nowhere", "--out", "x"], "--run: nowhere does not exist"),
        (["export.keras_model", "--run", "docs", "--out", "x"], "--run: docs holds no config.json"),
        (["training.evaluate", "--run", RUN, "--seed", "-1"], "--seed: must be >= 0, got -1"),
        (["training.plots", "--run", RUN, "--seed", "-5"], "--seed: must be >= 0, got -5"),
    ],
)
def test_a_wrong_run_or_seed_is_refused_before_tensorflow_starts(argv, message):
    done = command(*argv)
    assert done.returncode == 2
    error, heavy = done.stderr.strip().splitlines()
    assert message in error and heavy == "HEAVY []"


DOCKER_STOP_GRACE = 10.0  # s between docker stop's SIGTERM and its SIGKILL


def test_sigterm_ends_a_command_within_the_grace_period_while_tensorflow_computes(tmp_path):
    """SIGTERM in the middle of a compiled call of a minute or more (K = 5000 on 500 images
    of the paper's model) ends the command within `docker stop`'s 10 s, as schedulers need
    too, with exit status 143 and no report written (at SIGTERM_GRACE s, plus the exit
    itself: 2 s beyond it once on a machine loaded four times over)."""
    out = tmp_path / "report.json"
    argv = ["-u", "-m", "training.evaluate", "--run", "docs/results/mnist-2000-epochs/vae-bn-wu"]
    argv += ["--data-dir", "../shared/data/mnist", "--examples", "500", "--out", str(out)]
    if not (ROOT.parent / "shared" / "data" / "mnist").is_dir():
        pytest.skip("the real MNIST copies are not beside the checkout")
    process = subprocess.Popen(
        [sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    for line in process.stdout:  # the IW bound's compiled calls start after this line
        if line.startswith("log-likelihood: IW bound"):
            break
    time.sleep(3)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=120)
    elapsed = time.monotonic() - sent
    assert status == 143 and elapsed < DOCKER_STOP_GRACE, (status, elapsed)
    assert "terminated (SIGTERM)" in process.stderr.read() and not out.exists()


def test_an_internal_value_error_shows_its_traceback_and_a_users_stays_one_line(capsys):
    from tf_lvae.cli import run_command
    from tf_lvae.config import ModelConfig

    def numpy_bug(argv):
        import numpy as np

        np.zeros(-1)  # a ValueError raised inside NumPy: a bug, not the user's input

    def wrong_option(argv):
        ModelConfig(kind="ladder")  # a ValueError of the project's own checks

    assert run_command(numpy_bug, []) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "negative dimensions" in err
    assert run_command(wrong_option, []) == 2
    assert capsys.readouterr().err.startswith("error: kind must be one of")
