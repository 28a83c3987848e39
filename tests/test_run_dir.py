import csv
import os
import stat

import numpy as np
import pytest

from tf_lvae.callbacks import MetricsCSV, due
from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.run_dir import RunConfig, RunDir, write_atomic
from tf_lvae.trainer import steps_per_execution


def test_an_interrupted_atomic_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("old")

    def crash(tmp):
        tmp.write_text("half of the new")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_atomic(path, crash)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_atomically_written_files_and_folders_get_the_permissions_of_any_new_one(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", lambda tmp: tmp.write_text("new"))
        checkpoint = RunDir(tmp_path).new_checkpoint(1, lambda tmp: (tmp / "x").write_text(""))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE(checkpoint.stat().st_mode) == 0o755


def test_an_interrupted_checkpoint_is_never_seen(tmp_path):
    run = RunDir(tmp_path)
    run.new_checkpoint(1, lambda folder: (folder / "w").write_text("epoch 1"))

    def crash(folder):
        (folder / "w").write_text("partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run.new_checkpoint(2, crash)
    assert [(epoch, path.name) for epoch, path in run.checkpoints()] == [(1, "epoch-000001")]
    for epoch in (2, 3, 4):
        run.new_checkpoint(epoch, lambda folder: (folder / "w").write_text("ok"))
    assert [epoch for epoch, _ in run.checkpoints()] == [3, 4]  # the newest two are kept
    assert sorted(p.name for p in run.checkpoint_dir.iterdir()) == ["epoch-000003", "epoch-000004"]


def test_run_config_round_trips(tmp_path):
    run = RunDir(tmp_path)
    config = RunConfig(
        dataset="npz:/data/x.npz",
        data_dir=None,
        model=ModelConfig(input_shape=(8, 8), latent_dims=(4,), hidden_dims=(16,)),
        training=TrainingConfig(epochs=3),
        validation=0.1,
        init_from="/runs/base",
    )
    run.write_config(config)
    assert run.read_config() == config


def test_reading_a_missing_run_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        RunDir(tmp_path / "nope").read_config()


def test_metrics_csv_drops_rows_past_the_resumed_epoch(tmp_path):
    path = tmp_path / "metrics.csv"
    first = MetricsCSV(path)
    first.on_train_begin()
    for epoch in range(3):
        first.on_epoch_begin(epoch)
        first.on_epoch_end(epoch, {"elbo": -100.0 - epoch, "kl_z1": 1.0})
    resumed = MetricsCSV(path)  # the checkpoint had only 2 epochs done
    resumed.on_train_begin()
    resumed.on_epoch_begin(2)
    resumed.on_epoch_end(2, {"elbo": -50.0, "kl_z1": 2.0, "test_log_likelihood": float("nan")})
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[2]["elbo"]) == -50.0
    assert rows[0]["test_log_likelihood"] == "" and np.isnan(float(rows[2]["test_log_likelihood"]))


@pytest.mark.parametrize(
    ("steps", "requested", "expected"),
    [(234, 8, 9), (234, 32, 39), (95, 8, 5), (94, 32, 47), (97, 32, 97), (7, 8, 7), (1, 8, 1)],
)
def test_steps_per_execution_divides_the_epoch(steps, requested, expected):
    assert steps_per_execution(steps, requested) == expected


def test_periodic_work_is_due_every_n_epochs_and_at_the_last():
    assert [e for e in range(12) if due(e, 5, last_epoch=11)] == [4, 9, 11]
    assert [e for e in range(4) if due(e, 0)] == []
    assert [e for e in range(3) if due(e, 1)] == [0, 1, 2]
