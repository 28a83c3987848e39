"""Training under tf.distribute: a mirrored step is the one-device step; fit and resume.

Each check runs in a fresh process, which splits the CPU into 2 logical devices before
TensorFlow starts (the suite's own process has started it already)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tf_lvae.config import TrainingConfig

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


def run(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, *command], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_mirrored_step_is_the_one_device_step():
    result = json.loads(run("tests/support/mirrored_step.py").splitlines()[-1])
    step, synchronized = result["step"], result["synchronized"]
    assert step["moved"] > 1e-3  # three steps of Adam moved the weights ...
    assert step["max_difference"] < 1e-6  # ... exactly as on one device
    assert synchronized["output_difference"] < 1e-5
    assert synchronized["gradient_difference"] < 1e-5 * synchronized["gradient_size"]


def fit(out: Path, *options: str) -> str:
    return run("-m", "training.fit", "--out", str(out), *options)


def test_a_mirrored_run_trains_and_resumes_exactly(tmp_path):
    options = [
        "--dataset", "mnist-sample", "--latent-dims", "4,2", "--hidden-dims", "16,8",
        "--warmup-epochs", "1", "--eval-every", "0", "--unit-kl-examples", "0",
        "--final-iw-samples", "10", "--strategy", "mirrored", "--devices", "CPU:0,CPU:1",
        "--sync-batch-norm",
    ]  # fmt: skip
    output = fit(tmp_path / "straight", *options, "--epochs", "2")
    assert "2 replicas" in output
    fit(tmp_path / "resumed", *options, "--epochs", "1")
    fit(tmp_path / "resumed", "--resume", "--epochs", "2")
    checkpoint = "checkpoints/epoch-000002/variables.npz"
    straight = np.load(tmp_path / "straight" / checkpoint)
    resumed = np.load(tmp_path / "resumed" / checkpoint)
    for name in straight.files:
        np.testing.assert_array_equal(straight[name], resumed[name], err_msg=name)
    config = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert config["training"]["strategy"] == "mirrored"
    assert config["model"]["synchronized_batch_norm"] is True


def test_devices_need_the_mirrored_strategy():
    with pytest.raises(ValueError, match="need strategy='mirrored'"):
        TrainingConfig(devices=("GPU:0",))
    with pytest.raises(ValueError, match="strategy"):
        TrainingConfig(strategy="parameter-server")


def test_device_names_are_checked_in_the_config():
    assert TrainingConfig(strategy="mirrored", devices=("/gpu:1", "CPU:0")).devices == (
        "/gpu:1",
        "CPU:0",
    )
    with pytest.raises(ValueError, match="device names like GPU:0"):
        TrainingConfig(strategy="mirrored", devices=("GPU",))
    with pytest.raises(ValueError, match="more than once"):
        TrainingConfig(strategy="mirrored", devices=("CPU:0", "/device:cpu:0"))


REFUSE = """
import sys
from tf_lvae.cli import run_command
from training.fit import main
out, *device_lists = sys.argv[1:]
quick = ["--dataset", "mnist-sample", "--latent-dims", "4,2", "--hidden-dims", "16,8"]
for devices in device_lists:
    argv = [*quick, "--strategy", "mirrored", "--devices", devices, "--out", out]
    print(run_command(main, argv), flush=True)
"""


def test_devices_that_do_not_exist_are_refused_before_anything_is_written(tmp_path):
    """One process: the CPU splits once, into as many logical devices as the first list
    names CPUs (2); GPUs do not exist on this machine (they hung, or ran on CPU:0)."""
    out = tmp_path / "run"
    lists = ["CPU:0,CPU:9", "GPU:0", "GPU:0,GPU:1", "CPU:0,CPU:0"]
    done = subprocess.run(
        [sys.executable, "-c", REFUSE, str(out), *lists],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    statuses = [line for line in done.stdout.splitlines() if line.isdigit()]
    assert statuses == ["2"] * len(lists), done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(lists) and "Traceback" not in done.stderr, done.stderr
    for error, missing in zip(errors[:3], ["CPU:9", "GPU:0", "GPU:0, GPU:1"], strict=True):
        assert f"--devices {missing}: no such device here; TensorFlow sees CPU:0, CPU:1" in error
    assert "more than once" in errors[3]
    assert not out.exists()
