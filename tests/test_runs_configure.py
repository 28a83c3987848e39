"""A new run's RunConfig from the paper's preset for its dataset."""

import dataclasses
from pathlib import Path

import pytest

from tf_lvae.data import load_dataset
from tf_lvae.runs.configure import configure_run, continued_config


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def test_the_preset_of_the_dataset_with_the_datas_shape_and_likelihood(sample):
    config = configure_run("mnist-sample", sample, kind="vae", num_layers=2, data_dir="D")
    assert (config.model.kind, config.model.latent_dims) == ("vae", (64, 32))
    assert (config.model.activation, config.training.epochs) == ("leaky_relu", 2000)
    assert config.model.input_shape == (28, 28) and config.data_dir == str(Path("D").resolve())
    norb = configure_run(
        "npz:grey.npz", dataclasses.replace(sample, likelihood="gaussian"), preset_name="norb"
    )
    assert (norb.model.activation, norb.model.likelihood) == ("tanh", "gaussian")
    assert norb.training.learning_rate == 2e-3 and norb.model.input_shape == (28, 28)


def test_changes_apply_and_none_leaves_the_presets_value(sample):
    config = configure_run(
        "mnist-sample",
        sample,
        model={"batch_norm": False, "top_down": None},
        training={"epochs": 7, "seed": None},
        validation=100,
    )
    assert not config.model.batch_norm and config.model.top_down == "separate"
    assert (config.training.epochs, config.training.seed, config.validation) == (7, 0, 100)


def test_a_batch_larger_than_the_training_set_is_refused(sample):
    with pytest.raises(ValueError, match="larger than the 5000 training examples"):
        configure_run("mnist-sample", sample, training={"batch_size": 9000})


def test_the_architecture_picks_its_preset_and_latent_dims_alone_take_its_sizes(sample):
    conv = configure_run("mnist-sample", sample, model={"architecture": "conv"}, num_layers=3)
    assert conv.model.strides == (2, 2, 2) and conv.model.hidden_dims == (32, 32, 32)
    assert conv.training.epochs == 150
    sized = configure_run(
        "mnist-sample", sample, model={"architecture": "conv", "latent_dims": (4, 4)}
    )
    assert (sized.model.hidden_dims, sized.model.strides) == ((32, 32), (2, 2))
    mlp = configure_run("mnist-sample", sample, model={"latent_dims": (10, 5, 2)})
    assert mlp.model.hidden_dims == (512, 256, 128)
    with pytest.raises(ValueError, match="6 latent layers: give --hidden-dims too"):
        configure_run("mnist-sample", sample, model={"latent_dims": (9,) * 6})


def test_a_continued_run_must_keep_its_depth(sample):
    saved = configure_run("mnist-sample", sample, num_layers=3)
    assert continued_config(saved, {"model": {"num_layers": 3}})[0] == saved
    with pytest.raises(ValueError, match=r"layers 2 \(saved 3\)"):
        continued_config(saved, {"model": {"num_layers": 2}})


def test_a_run_records_its_data_dir_absolute(sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    config = configure_run("mnist", sample, data_dir="data", num_layers=1)
    assert config.data_dir == str(tmp_path / "data")
    moved, notes = continued_config(config, {"data_dir": "elsewhere"})
    assert moved.data_dir == str(tmp_path / "elsewhere") and "reading the data from" in notes[0]
    assert configure_run("mnist", sample, num_layers=1).data_dir is None  # tfds's own folder
