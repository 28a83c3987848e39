"""Checkpoints and the one decision of which file holds a run's model; models written by
tf_lvae 0.1 load as they were trained."""

import json
import re
import zipfile

import keras
import numpy as np
import pytest

from tf_lvae import HierarchicalVAE, ModelConfig, TrainingConfig
from tf_lvae.errors import TrainingFailed
from tf_lvae.evaluation.batch_norm import batch_norm_layers
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.checkpoints import (
    load_trained_model,
    restore_checkpoint,
    run_model_file,
    save_checkpoint,
)
from tf_lvae.runs.run_dir import RunDir

SMALL = ModelConfig(input_shape=(6, 6), latent_dims=(4, 3), hidden_dims=(8, 8))
LEGACY_FIELDS = ("latent_batch_norm", "batch_norm_epsilon")


def x() -> np.ndarray:
    return np.random.default_rng(0).uniform(size=(5, 6, 6)).astype("float32")


def new_run(path, model_config=SMALL, config_dict=None) -> RunDir:
    run = RunDir(path)
    config = RunConfig("mnist-sample", None, model_config, TrainingConfig(epochs=2))
    run.write_config(config)
    if config_dict is not None:
        run.config_path.write_text(json.dumps(config_dict(config.to_dict())))
    return run


def test_the_final_model_is_model_keras_and_latest_is_the_last_checkpoint(tmp_path):
    run = new_run(tmp_path)
    with pytest.raises(FileNotFoundError, match="no trained model yet"):
        run_model_file(run)
    model = HierarchicalVAE(SMALL, seed=0)
    save_checkpoint(model, run, 1)
    assert run_model_file(run) == (run.checkpoint_dir / "epoch-000001", 1)  # unfinished
    save_checkpoint(model, run, 2)
    model.save(run.model_path)
    assert run_model_file(run, "final") == (run.model_path, 2)
    assert run_model_file(run, "latest") == (run.checkpoint_dir / "epoch-000002", 2)
    trained = load_trained_model(run, "latest")
    assert trained.epochs == 2 and trained.path.name == "epoch-000002"
    np.testing.assert_allclose(trained.model.encode(x())["z1_mean"], model.encode(x())["z1_mean"])
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        run_model_file(RunDir(tmp_path / "nope"))


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    run = new_run(tmp_path)
    folder = save_checkpoint(HierarchicalVAE(SMALL, seed=0), run, 1)
    other = ModelConfig(
        input_shape=(6, 6), latent_dims=(4, 3), hidden_dims=(8, 8), batch_norm=False
    )
    with pytest.raises(ValueError, match="another model configuration"):
        restore_checkpoint(HierarchicalVAE(other), folder)


def test_checkpoints_of_tf_lvae_0_1_load_as_they_were_trained(tmp_path):
    """A 0.1 run: config.json without the latent batch-norm fields, checkpoint of a model
    without batch norm on the latent heads and Keras's epsilon."""
    legacy = ModelConfig(**{**SMALL.to_dict(), "latent_batch_norm": False,
                            "batch_norm_epsilon": 1e-3})  # fmt: skip
    trained = HierarchicalVAE(legacy, seed=3)
    run = new_run(
        tmp_path,
        legacy,
        lambda d: {**d, "model": {k: v for k, v in d["model"].items() if k not in LEGACY_FIELDS}},
    )
    save_checkpoint(trained, run, 2)
    loaded = load_trained_model(run).model
    assert loaded.model_config == legacy
    assert {layer.epsilon for layer in batch_norm_layers(loaded)} == {1e-3}
    np.testing.assert_allclose(loaded.encode(x())["z2_mean"], trained.encode(x())["z2_mean"])


def test_keras_files_of_tf_lvae_0_1_load_as_they_were_trained(tmp_path):
    legacy = ModelConfig(**{**SMALL.to_dict(), "latent_batch_norm": False,
                            "batch_norm_epsilon": 1e-3})  # fmt: skip
    trained = HierarchicalVAE(legacy, seed=3)
    path = tmp_path / "model.keras"
    trained.save(path)
    old = tmp_path / "old.keras"  # the same file as 0.1 wrote it: no new config fields
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"].pop("batch_norm_statistics")
                for key in LEGACY_FIELDS:
                    config["config"]["config"].pop(key)
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    loaded = keras.saving.load_model(old)
    assert loaded.model_config == legacy and loaded.batch_norm_statistics is None
    np.testing.assert_allclose(loaded.encode(x())["z2_mean"], trained.encode(x())["z2_mean"])


def test_a_model_that_is_not_finite_is_never_checkpointed_nor_used(tmp_path):
    run = new_run(tmp_path)
    model = HierarchicalVAE(SMALL, seed=0)
    save_checkpoint(model, run, 1)
    model.generative.decoder_mlp.dense[0].kernel.assign(
        np.full(model.generative.decoder_mlp.dense[0].kernel.shape, np.nan)
    )
    with pytest.raises(TrainingFailed, match=r"not finite: no checkpoint.*epoch-000001"):
        save_checkpoint(model, run, 2)
    assert [epoch for epoch, _ in run.checkpoints()] == [1]
    model.save(run.model_path)
    with pytest.raises(TrainingFailed, match="1 weight arrays that are not finite"):
        load_trained_model(run)


def test_a_model_keras_of_another_configuration_is_refused_wherever_it_is_read(
    tmp_path, user_error
):
    from export.saved_model import main as export
    from tf_lvae.runs.start import fine_tuning
    from tf_lvae.runs.train import is_finished
    from training.evaluate import main as evaluate
    from training.plots import main as plots

    run = new_run(tmp_path / "run")
    save_checkpoint(HierarchicalVAE(SMALL, seed=0), run, 2)
    run.write_results({})
    other = ModelConfig(input_shape=(6, 6), latent_dims=(5, 3), hidden_dims=(8, 8))
    HierarchicalVAE(other, seed=0).save(run.model_path)
    message = (
        f"{run.model_path} is not the model of {run.config_path}: latent_dims [5, 3] "
        "(config.json: [4, 3])"
    )
    for read in (
        lambda: load_trained_model(run),
        lambda: is_finished(run, run.read_config()),
        lambda: fine_tuning(run, {"model": {}, "training": {}}, 1),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            read()
    assert not run.finetune.path.exists()
    user_error(evaluate, ["--run", str(run.path)], message)
    user_error(plots, ["--run", str(run.path)], message)
    user_error(export, ["--run", str(run.path), "--out", str(tmp_path / "export")], message)
    assert not (tmp_path / "export" / "1").exists()
