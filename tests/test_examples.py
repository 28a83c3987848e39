"""What a valid batch is (tf_lvae/examples.py), applied by the Python API: score, encode,
reconstruct, infer, log_weights and fit refuse NaN, values outside [0, 1] and wrong shapes
with a ValueError naming what is wrong; an epoch of skipped steps reports NaN, not 0."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tf_lvae import HierarchicalVAE, ModelConfig, make_optimizer
from tf_lvae.config import TrainingConfig
from tf_lvae.examples import check_examples, checked_dataset

CONFIG = ModelConfig(input_shape=(6, 6), latent_dims=(3,), hidden_dims=(8,))
GOOD = np.random.default_rng(0).random((64, 6, 6)).astype(np.float32)
BAD = [
    (GOOD * 255, "holds values from .* to 25"),
    (np.where(GOOD > 0.5, np.nan, GOOD), "values that are not finite"),
    (-GOOD, "holds values from -"),
    (GOOD[:, :5], r"has shape \[\d+, 5, 6\], not \[batch, 6, 6\]"),
    (GOOD.astype(str), "not numbers"),
]


@pytest.fixture(scope="module")
def model():
    model = HierarchicalVAE(CONFIG, seed=0)
    model.compile(optimizer=make_optimizer(TrainingConfig()))
    return model


@pytest.mark.parametrize("x, message", BAD)
def test_every_entry_point_refuses_a_bad_batch_naming_what_is_wrong(model, x, message):
    calls = {
        "score": lambda: model.score(x[:4], 3),
        "encode": lambda: model.encode(x[:4]),
        "reconstruct": lambda: model.reconstruct(x[:4]),
        "infer": lambda: model.infer(x[:4]),
        "log_weights": lambda: model.log_weights(x[:4]),
        "fit": lambda: model.fit(x, batch_size=32, epochs=1, verbose=0),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=message) as error:
            call()
        assert "finite values in [0, 1]" in str(error.value), name


def test_a_dataset_is_checked_batch_by_batch_in_its_pipeline(model):
    good = tf.data.Dataset.from_tensor_slices(GOOD).batch(32)
    assert len(list(checked_dataset(good, CONFIG))) == 2
    bad = tf.data.Dataset.from_tensor_slices(np.concatenate([GOOD, GOOD * 255])).batch(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"finite values in \[0, 1\]"):
        model.fit(bad, epochs=1, verbose=0)
    labelled = tf.data.Dataset.from_tensor_slices((GOOD[:, :5], np.zeros(64))).batch(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"examples \[batch, 6, 6\]"):
        list(checked_dataset(labelled, CONFIG))


def test_valid_batches_pass_stacks_of_batches_and_empty_ones_included():
    check_examples(GOOD, CONFIG)
    check_examples(GOOD.reshape(4, 16, 6, 6), CONFIG)  # k batches per compiled call
    check_examples(np.zeros((0, 6, 6), np.float32), CONFIG)
    check_examples(tf.constant(GOOD), CONFIG)


def test_an_epoch_whose_every_step_was_skipped_reports_nan_not_zero(model):
    def nan_batches():  # a generator is not checked up front: its steps are skipped
        for _ in range(2):
            yield (np.full((32, 6, 6), np.nan, np.float32),)

    history = model.fit(nan_batches(), epochs=1, verbose=0).history
    assert history["skipped_steps"] == [2.0]
    assert math.isnan(history["elbo"][0]) and math.isnan(history["loss"][0])
    finite = model.fit(GOOD, batch_size=32, epochs=1, verbose=0).history
    assert finite["skipped_steps"] == [0.0] and np.isfinite(finite["elbo"][0])


def test_a_likelihood_of_levels_takes_8_bit_levels_only():
    config = ModelConfig(
        input_shape=(6, 6), latent_dims=(3,), hidden_dims=(8,), likelihood="logistic-mixture"
    )
    levels = np.round(GOOD * 255) / 255
    check_examples(levels, config)
    between = np.where(levels < 1, levels + 0.4 / 255, levels)
    with pytest.raises(ValueError, match=r"not levels k / 255.* with 8-bit levels k / 255"):
        check_examples(between, config)
    between = tf.data.Dataset.from_tensor_slices(between).batch(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="8-bit levels k / 255"):
        list(checked_dataset(between, config))
    assert (
        len(list(checked_dataset(tf.data.Dataset.from_tensor_slices(levels).batch(32), config)))
        == 2
    )
