"""The run directory: atomic writes, checkpoints kept, config.json, every record's reader."""

import json
import os
import stat

import numpy as np
import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir, write_atomic, write_json


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


def test_records_are_read_back_as_written(tmp_path):
    run = RunDir(tmp_path)
    run.write_metric_rows([{"epoch": "1", "elbo": "-90.5"}, {"epoch": "2", "kl": "3.0"}])
    assert run.read_metric_rows() == [
        {"epoch": "1", "elbo": "-90.5", "kl": ""},
        {"epoch": "2", "elbo": "", "kl": "3.0"},
    ]
    metrics = run.read_metrics()
    assert metrics["elbo"][0] == -90.5 and np.isnan(metrics["elbo"][1])
    layers = [[np.ones(3), np.zeros(3)], [np.full(2, 0.5), np.full(2, 0.25)]]
    run.write_unit_kl([5, 10], layers)
    epochs, read = run.read_unit_kl()
    assert epochs.tolist() == [5, 10] and [r.shape for r in read] == [(2, 3), (2, 2)]
    run.write_results({"test": {"log_likelihood": -90.0}})
    assert run.read_results() == {"test": {"log_likelihood": -90.0}}
    assert run.evaluation_path("train") == tmp_path / "evaluation-train.json"
    part = run.evaluation_path("test", "examples-0-500")
    assert part == tmp_path / "evaluation-test-examples-0-500.json"
    assert run.finetune.path == tmp_path / "finetune"


def test_missing_records_say_what_is_missing(tmp_path):
    run = RunDir(tmp_path)
    assert run.read_metric_rows() == []
    with pytest.raises(FileNotFoundError, match="no epoch yet"):
        run.read_metrics()
    with pytest.raises(FileNotFoundError, match="no per-unit KL"):
        run.read_unit_kl()


def test_json_records_are_valid_json_with_null_for_nan(tmp_path):
    path = tmp_path / "r.json"
    write_json(path, {"ll": float("nan"), "list": [1.0, float("inf")], "ok": -80.5})
    assert json.loads(path.read_text(), parse_constant=pytest.fail) == {
        "ll": None,
        "list": [1.0, None],
        "ok": -80.5,
    }


def test_a_run_never_trained_until_it_has_a_checkpoint_or_a_record(tmp_path):
    run = RunDir(tmp_path)
    run.write_config(RunConfig("mnist-sample", None, ModelConfig(), TrainingConfig()))
    (run.checkpoint_dir / ".epoch-000001-0123456789ab").mkdir(parents=True)  # interrupted
    assert run.never_trained()
    run.write_metric_rows([{"epoch": "1", "elbo": "-100"}])
    assert not run.never_trained()
    run.metrics_path.unlink()
    run.new_checkpoint(1, lambda folder: None)
    assert not run.never_trained()


@pytest.mark.parametrize("examples, why", [(0, r"records no per-unit KL \(unit_kl_examples = 0\)"),
                                           (20, "has recorded no per-unit KL yet")])  # fmt: skip
def test_a_missing_unit_kl_record_is_explained_by_the_runs_own_config(tmp_path, examples, why):
    run = RunDir(tmp_path)
    model = ModelConfig(latent_dims=(2,), hidden_dims=(4,))
    run.write_config(RunConfig("mnist", None, model, TrainingConfig(), unit_kl_examples=examples))
    with pytest.raises(FileNotFoundError, match=why):
        run.read_unit_kl()
