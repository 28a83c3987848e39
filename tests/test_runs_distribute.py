"""Training under tf.distribute: a mirrored step is the one-device step; fit's checks of
devices and of the batch split (a mirrored run's exact resume is in test_runs_cluster.py,
where its run is the cluster's reference).

Each check runs in a fresh process, which splits the CPU into 2 logical devices before
TensorFlow starts (the suite's own process has started it already)."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}


def run(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, *command], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    ("architecture", "likelihood"),
    [("mlp", "bernoulli"), ("conv", "bernoulli"), ("mlp", "logistic-mixture")],
)
def test_a_mirrored_step_is_the_one_device_step(architecture, likelihood):
    output = run("tests/support/mirrored_step.py", architecture, likelihood)
    result = json.loads(output.splitlines()[-1])
    step, synchronized = result["step"], result["synchronized"]
    assert step["moved"] > 1e-3  # three steps of Adam moved the weights ...
    assert step["max_difference"] < 1e-6  # ... exactly as on one device
    assert synchronized["output_difference"] < 1e-5
    assert synchronized["gradient_difference"] < 1e-5 * synchronized["gradient_size"]


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


COMMANDS = """
import json, sys
from tf_lvae.cli import run_command
from training.fit import main
for argv in json.loads(sys.argv[1]):
    print(f"status {run_command(main, argv)}", flush=True)
"""
TINY = ["--dataset", "mnist-sample", "--latent-dims", "4,2", "--hidden-dims", "16,8"]
TINY += ["--epochs", "1", "--eval-every", "0", "--unit-kl-examples", "0"]
TINY += ["--final-iw-samples", "2", "--no-xla"]


def fit_in_one_process(*argvs: list[str]) -> tuple[list[int], str, str]:
    """Runs training.fit with each argv in turn in one fresh process (the CPU splits once,
    into as many logical devices as the first run's devices name CPUs: its --devices, or on
    --resume its saved config's); returns the exit statuses, stdout and stderr."""
    done = subprocess.run(
        [sys.executable, "-c", COMMANDS, json.dumps(argvs)],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    statuses = [
        int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("status ")
    ]
    assert len(statuses) == len(argvs), done.stderr[-3000:]
    return statuses, done.stdout, done.stderr


def test_devices_that_do_not_exist_are_refused_before_anything_is_written(tmp_path):
    """GPUs do not exist on this machine (they hung, or ran on CPU:0 while naming them)."""
    out = ["--out", str(tmp_path / "run")]
    lists = ["CPU:0,CPU:9", "GPU:0", "GPU:0,GPU:1", "CPU:0,CPU:0"]
    argvs = [[*TINY, "--strategy", "mirrored", "--devices", d, *out] for d in lists]
    statuses, _, err = fit_in_one_process(*argvs)
    assert statuses == [2] * len(lists), err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == len(lists) and "Traceback" not in err, err
    for error, missing in zip(errors[:3], ["CPU:9", "GPU:0", "GPU:0, GPU:1"], strict=True):
        assert f"--devices {missing}: no such device here; TensorFlow sees CPU:0, CPU:1" in error
    assert "more than once" in errors[3]
    assert not (tmp_path / "run").exists()


def test_the_batch_split_is_checked_first_and_a_run_that_never_trained_starts_again(tmp_path):
    mirrored = ["--strategy", "mirrored", "--devices", "CPU:0,CPU:1"]
    run, fresh = tmp_path / "run", tmp_path / "fresh"
    model = ModelConfig(latent_dims=(4, 2), hidden_dims=(16, 8))
    devices = ("CPU:0", "CPU:1")
    training = TrainingConfig(epochs=1, batch_size=255, strategy="mirrored", devices=devices)
    untrained = RunConfig("mnist-sample", None, model, training, eval_every=0, unit_kl_examples=0)
    RunDir(run).write_config(untrained)  # as the check after config.json left it
    statuses, out, err = fit_in_one_process(
        [*TINY, *mirrored, "--batch-size", "255", "--out", str(fresh)],
        ["--resume", "--out", str(run)],
        [*TINY, *mirrored, "--batch-size", "256", "--out", str(run)],
    )
    assert statuses == [2, 2, 0], err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert "--batch-size 255 does not split across 2 replicas" in errors[0]
    assert not fresh.exists()
    assert "never trained: start it again as a new run" in errors[1]
    assert f"{run}: its run never trained; starting it again" in out
    assert json.loads((run / "config.json").read_text())["training"]["batch_size"] == 256
    assert json.loads((run / "results.json").read_text())["epochs"] == 1


def test_batch_norm_needs_two_examples_on_each_replica():
    from tf_lvae.runs.distribute import check_batch_split

    class TwoReplicas:
        num_replicas_in_sync = 2

    model = ModelConfig(latent_dims=(4, 2), hidden_dims=(16, 8))
    training = TrainingConfig(batch_size=2, strategy="mirrored")
    config = RunConfig("mnist-sample", None, model, training)
    with pytest.raises(ValueError, match="each of the 2 replicas one example"):
        check_batch_split(TwoReplicas(), config)
    synchronized = dataclasses.replace(model, synchronized_batch_norm=True)
    check_batch_split(TwoReplicas(), dataclasses.replace(config, model=synchronized))
    check_batch_split(None, config)
