"""The callbacks that watch and record a run: metrics.csv, the periodic work."""

import csv

import numpy as np
import pytest

from tf_lvae.errors import TrainingFailed
from tf_lvae.runs.callbacks import MetricsCSV, StopOnNonFinite, due
from tf_lvae.runs.run_dir import RunDir


def test_metrics_csv_drops_rows_past_the_resumed_epoch(tmp_path):
    run = RunDir(tmp_path)
    path = run.metrics_path
    first = MetricsCSV(run)
    first.on_train_begin()
    for epoch in range(3):
        first.on_epoch_begin(epoch)
        first.on_epoch_end(epoch, {"elbo": -100.0 - epoch, "kl_z1": 1.0})
    resumed = MetricsCSV(run)  # the checkpoint had only 2 epochs done
    resumed.on_train_begin()
    resumed.on_epoch_begin(2)
    resumed.on_epoch_end(2, {"elbo": -50.0, "kl_z1": 2.0, "test_log_likelihood": float("nan")})
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[2]["elbo"]) == -50.0
    assert rows[0]["test_log_likelihood"] == "" and np.isnan(float(rows[2]["test_log_likelihood"]))


def test_periodic_work_is_due_every_n_epochs_and_at_the_last():
    assert [e for e in range(12) if due(e, 5, last_epoch=11)] == [4, 9, 11]
    assert [e for e in range(4) if due(e, 0)] == []
    assert [e for e in range(3) if due(e, 1)] == [0, 1, 2]


def test_training_stops_after_the_limit_of_skipped_steps_in_a_row():
    guard = StopOnNonFinite(limit=10, steps_per_call=4)
    guard.on_epoch_begin(0)
    for batch, skipped in enumerate([4, 7, 11]):  # 3 of 4 steps skipped in the 2nd call
        guard.on_train_batch_end(batch, {"skipped_steps": skipped})
    assert guard.in_a_row == 4
    guard.on_epoch_begin(1)
    guard.on_train_batch_end(0, {"skipped_steps": 4})
    with pytest.raises(TrainingFailed, match=r"no longer finite.*keeps its last checkpoint"):
        guard.on_train_batch_end(1, {"skipped_steps": 8})


def test_the_tensorboard_images_change_no_number_of_the_run(tmp_path, monkeypatch):
    """The images draw from their own stateless seed: a run with them records the same
    metrics, per-unit KLs, weights and results as a run without them, bit for bit."""
    from tf_lvae.runs.callbacks import TensorBoardImages
    from tf_lvae.runs.checkpoints import load_run_model
    from training.fit import main

    argv = ["--dataset", "mnist-sample", "--latent-dims", "8,4", "--hidden-dims", "64,32"]
    argv += ["--epochs", "2", "--no-xla"]
    argv += ["--monitor-every", "1", "--unit-kl-examples", "50", "--final-iw-samples", "5"]
    assert main([*argv, "--out", str(tmp_path / "with")]) == 0
    monkeypatch.setattr(TensorBoardImages, "on_epoch_end", lambda self, epoch, logs=None: None)
    assert main([*argv, "--out", str(tmp_path / "without")]) == 0
    runs = [RunDir(tmp_path / name) for name in ("with", "without")]
    assert (runs[0].tensorboard_dir / "test").is_dir()
    assert runs[0].metrics_path.read_text() == runs[1].metrics_path.read_text()
    records = [run.read_unit_kl() for run in runs]
    for a, b in zip(records[0][1], records[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    weights = [load_run_model(run.path, "latest").get_weights() for run in runs]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
    results = [run.read_results()["test"] for run in runs]
    assert results[0]["log_likelihood"] == results[1]["log_likelihood"]
