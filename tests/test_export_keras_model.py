"""python -m export.keras_model: a run's final model without the optimizer's state, as a
folder that loads and evaluates like the run."""

import dataclasses
import zipfile

import h5py
import keras
import numpy as np

from export.keras_model import main
from tf_lvae import HierarchicalVAE, ModelConfig, TrainingConfig
from tf_lvae.cli import run_command
from tf_lvae.optimizer import make_optimizer
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir

CONFIG = ModelConfig(input_shape=(6, 6), latent_dims=(5, 3), hidden_dims=(16, 8))


def trained_run(path) -> RunDir:
    """A finished run whose model.keras holds Adam's state after one step."""
    model = HierarchicalVAE(CONFIG, seed=0)
    model.compile(optimizer=make_optimizer(TrainingConfig()))
    x = (np.random.default_rng(0).uniform(size=(32, 6, 6)) < 0.3).astype("float32")
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    run = RunDir(path)
    run.write_config(RunConfig("mnist", None, CONFIG, TrainingConfig()))
    model.save(run.model_path)
    return run


def weight_groups(path) -> set[str]:
    """The top-level groups of a .keras archive's weights file."""
    with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as f:
        return set(h5py.File(f, "r"))


def test_the_model_is_written_without_the_optimizer_and_computes_the_same(tmp_path):
    run = trained_run(tmp_path / "run")
    out = RunDir(tmp_path / "published")
    assert run_command(main, ["--run", str(run.path), "--out", str(out.path)]) == 0
    assert out.config_path.read_text() == run.config_path.read_text()
    original, published = (keras.saving.load_model(r.model_path) for r in (run, out))
    assert getattr(published, "optimizer", None) is None and original.optimizer.variables
    assert weight_groups(run.model_path) - weight_groups(out.model_path) == {"optimizer"}
    x = np.random.default_rng(1).uniform(size=(4, 6, 6)).astype("float32")
    for key, value in original.encode(x).items():
        np.testing.assert_array_equal(published.encode(x)[key], value, err_msg=key)


def test_an_unfinished_run_or_a_missing_one_is_refused(tmp_path, capsys, user_error):
    run = RunDir(tmp_path / "run")
    run.write_config(RunConfig("mnist", None, CONFIG, TrainingConfig()))
    assert run_command(main, ["--run", str(run.path), "--out", str(tmp_path / "out")]) == 2
    assert "has not finished" in capsys.readouterr().err
    user_error(main, ["--run", str(tmp_path / "x"), "--out", str(run.path)], "x does not exist")


def test_a_model_file_of_another_configuration_is_refused(tmp_path, capsys):
    run = trained_run(tmp_path / "run")
    other = dataclasses.replace(CONFIG, latent_dims=(4, 3))
    run.write_config(RunConfig("mnist", None, other, TrainingConfig()))
    assert run_command(main, ["--run", str(run.path), "--out", str(tmp_path / "out")]) == 2
    assert "is not the model of" in capsys.readouterr().err
    assert not (tmp_path / "out" / "model.keras").exists()
