"""The training command end to end: python -m training.fit on the bundled MNIST slice."""

import csv
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from tf_lvae.cli import run_command
from tf_lvae.evaluation.batch_norm import batch_norm_layers
from tf_lvae.runs.checkpoints import load_run_model
from training.fit import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--dataset", "mnist-sample", "--layers", "2", "--final-iw-samples", "20"]
QUICK += ["--eval-every", "1", "--eval-iw-samples", "5", "--unit-kl-examples", "100"]
QUICK += ["--monitor-every", "1"]


def fit(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "training.fit", *args],
        cwd=ROOT,
        env=env,
        text=True,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs},
    )


def metrics(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_two_epoch_run_fills_the_run_directory(tmp_path):
    run = tmp_path / "run"
    out, err = fit(*QUICK, "--epochs", "2", "--out", str(run)).communicate(timeout=600)
    assert "epoch 1/2 | elbo" in out and "epoch 2/2 | elbo" in out, out + err
    assert "test log-likelihood" in out
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["latent_dims"] == [64, 32] and config["training"]["epochs"] == 2
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-000001",
        "epoch-000002",
    ]
    rows = metrics(run)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["elbo"]) > float(rows[0]["elbo"])  # training lowers the loss
    for key in ("test_elbo", "test_log_likelihood", "kl_z1", "kl_z2", "beta", "learning_rate"):
        assert np.isfinite(float(rows[1][key])), key
    with np.load(run / "unit_kl.npz") as record:
        assert record["epochs"].tolist() == [1, 2]
        assert record["layer_1"].shape == (2, 64) and record["layer_2"].shape == (2, 32)
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    results = json.loads((run / "results.json").read_text())
    assert results["test"]["iw_samples"] == 20 and results["test"]["examples"] == 1000
    assert results["test"]["elbo"] < results["test"]["log_likelihood"] < 0
    model = keras.saving.load_model(run / "model.keras")
    assert model.model_config.latent_dims == (64, 32)
    # the final numbers and model.keras use batch-norm statistics recomputed from one pass
    # over the training set (docs/method.md §4), not the moving averages of the checkpoint
    assert results["batch_norm_statistics"]["used"] == "recomputed"
    assert model.batch_norm_statistics == {"recomputed_from": 5000, "seed": 0}
    moving = load_run_model(run, "latest")
    assert not np.allclose(
        batch_norm_layers(model)[0].moving_mean.numpy(),
        batch_norm_layers(moving)[0].moving_mean.numpy(),
    )


def test_in_a_terminal_each_epoch_shows_a_progress_bar_then_its_summary_line(tmp_path):
    primary, terminal = pty.openpty()
    process = fit(*QUICK, "--epochs", "2", "--out", str(tmp_path / "run"), stdout=terminal)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed: the run ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert process.wait(timeout=600) == 0, process.stderr.read()
    out = b"".join(chunks).decode()
    assert "━" in out  # Keras's progress bar
    for epoch in (1, 2):  # a line of its own, after the epoch's last bar update
        assert re.search(rf"\r?\nepoch {epoch}/2 \| elbo", out), out


def test_a_killed_run_resumes_to_the_same_result_as_an_uninterrupted_one(tmp_path):
    args = [*QUICK, "--epochs", "4", "--no-xla", "--final-iw-samples", "5"]
    reference = fit(*args, "--out", str(tmp_path / "reference"))
    killed_dir = tmp_path / "killed"
    killed = fit(*args, "--out", str(killed_dir))
    deadline = time.time() + 300
    while not (killed_dir / "checkpoints" / "epoch-000002").exists():
        assert killed.poll() is None and time.time() < deadline, killed.communicate()
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)  # in epoch 3, or writing its metrics
    killed.communicate()
    assert not (killed_dir / "model.keras").exists()
    out, err = fit("--resume", "--out", str(killed_dir)).communicate(timeout=600)
    assert "epochs 3..4" in out or "epochs 4..4" in out, out + err
    reference.communicate(timeout=600)
    assert metrics(killed_dir) == metrics(tmp_path / "reference")
    results = [
        json.loads((d / "results.json").read_text())["test"]
        for d in (killed_dir, tmp_path / "reference")
    ]
    assert results[0]["log_likelihood"] == results[1]["log_likelihood"]
    with np.load(killed_dir / "unit_kl.npz") as record:
        assert record["epochs"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "cifar"], "unknown dataset 'cifar'"),
        (
            ["--dataset", "mnist-sample", "--latent-dims", "64,32", "--hidden-dims", "512"],
            "one width per latent layer",
        ),
        (["--dataset", "mnist-sample", "--epochs", "-3"], "--epochs: must be >= 0"),
        (["--dataset", "mnist-sample", "--layers", "7"], "--layers must be 1..5"),
        (["--dataset", "mnist-sample", "--latent-dims", "64", "--layers", "2"], "not allowed with"),
        (["--dataset", "mnist-sample", "--batch-size", "9000"], "larger than the 5000 training"),
        (["--resume", "--out", "/nonexistent/run"], "nothing to resume"),
        (["--epochs", "3"], "--dataset is required"),
    ],
)
def test_wrong_arguments_exit_2_with_one_line(argv, message, user_error, tmp_path):
    out = [] if "--out" in argv else ["--out", str(tmp_path / "r")]
    user_error(main, [*argv, *out], message)
    assert not (tmp_path / "r" / "config.json").exists()


def test_an_existing_run_is_not_overwritten(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    assert run_command(main, ["--dataset", "mnist-sample", "--out", str(run)]) == 2
    assert "already holds a run; continue it with --resume" in capsys.readouterr().err
    assert (run / "config.json").read_text() == "{}"


def test_finetune_continues_a_finished_run_with_the_papers_settings(tmp_path):
    base = tmp_path / "base"
    assert main([*QUICK, "--epochs", "1", "--no-xla", "--out", str(base)]) == 0
    assert main(["--finetune", "--epochs", "1", "--out", str(base)]) == 0
    tuned = base / "finetune"
    config = json.loads((tuned / "config.json").read_text())
    t = config["training"]
    assert (t["epochs"], t["mc_samples"], t["iw_samples"], t["warmup_epochs"]) == (2, 10, 10, 0)
    assert (t["lr_decay_rate"], t["lr_decay_start"]) == (0.75, 1)
    assert config["init_from"] == str(base.resolve())
    assert [r["epoch"] for r in metrics(tuned)] == ["2"]  # continues after the base's epoch 1
    assert json.loads((tuned / "results.json").read_text())["epochs"] == 2


def test_a_run_that_goes_non_finite_stops_with_one_line_and_writes_no_bad_checkpoint(tmp_path):
    run = tmp_path / "run"
    argv = ["--dataset", "mnist-sample", "--layers", "2", "--lr", "1e8", "--epochs", "4"]
    process = fit(*argv, "--final-iw-samples", "10", "--out", str(run))
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1, out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "not finite" in lines[0] and "Traceback" not in err
    assert not (run / "results.json").exists()
    for folder in (run / "checkpoints").glob("epoch-*"):
        with np.load(folder / "variables.npz") as saved:
            assert all(
                np.isfinite(saved[k]).all() for k in saved.files if saved[k].dtype.kind == "f"
            )


def test_sigterm_stops_cleanly_and_a_damaged_checkpoint_falls_back_on_resume(tmp_path):
    run = tmp_path / "run"
    args = [*QUICK, "--epochs", "4", "--no-xla", "--final-iw-samples", "5"]
    process = fit(*args, "--out", str(run))
    deadline = time.time() + 300
    while not (run / "checkpoints" / "epoch-000002").exists():
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143 and "terminated (SIGTERM)" in err, out + err
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
    latest = max((run / "checkpoints").glob("epoch-*"))
    variables = latest / "variables.npz"
    variables.write_bytes(variables.read_bytes()[: variables.stat().st_size // 2])
    stale = run / "checkpoints" / ".epoch-000009-0123456789ab"
    stale.mkdir()
    out, err = fit("--resume", "--out", str(run)).communicate(timeout=600)
    assert f"warning: {latest} is damaged" in err and "using the checkpoint before it" in err
    assert f"removed {stale}" in out and not stale.exists()
    assert f"epochs {int(latest.name[-6:])}..4" in out, out + err
    assert json.loads((run / "results.json").read_text())["epochs"] == 4


def test_a_damaged_config_is_named_with_what_to_do(tmp_path, user_error):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"dataset": "mnist-sa')
    user_error(main, ["--resume", "--out", str(run)], "config.json is damaged")
