"""A new run's RunConfig from the paper's preset for its dataset."""

import dataclasses

import pytest

from tf_lvae.data import load_dataset
from tf_lvae.runs.configure import configure_run


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def test_the_preset_of_the_dataset_with_the_datas_shape_and_likelihood(sample):
    config = configure_run("mnist-sample", sample, kind="vae", num_layers=2, data_dir="D")
    assert (config.model.kind, config.model.latent_dims) == ("vae", (64, 32))
    assert (config.model.activation, config.training.epochs) == ("leaky_relu", 2000)
    assert config.model.input_shape == (28, 28) and config.data_dir == "D"
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
