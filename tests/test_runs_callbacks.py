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
