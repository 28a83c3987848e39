"""The optimizer: Adam with the authors' clipping, norm first, then each element."""

import keras
import numpy as np
import pytest

from tf_lvae.config import TrainingConfig
from tf_lvae.optimizer import ClippedAdam, make_optimizer


def step(optimizer, grads) -> np.ndarray:
    """The variable after one update from zeros with `grads`."""
    variable = keras.Variable(np.zeros(len(grads), "float32"))
    optimizer.apply([np.asarray(grads, "float32")], [variable])
    return variable.numpy()


def test_gradients_are_clipped_to_the_norm_then_each_element():
    # [10, 0.1] -> norm 4: [4.0, 0.04] -> elements at 0.9: [0.9, 0.04]. The other order
    # would give [0.9, 0.1], and Adam's first step moves by lr * g / (|g| + eps).
    clipped = step(ClippedAdam(clip_norm=4.0, clip_value=0.9, learning_rate=1.0), [10.0, 0.1])
    expected = step(keras.optimizers.Adam(learning_rate=1.0), [0.9, 4.0 * 0.1 / np.hypot(10, 0.1)])
    np.testing.assert_allclose(clipped, expected, rtol=1e-5)
    unclipped = step(ClippedAdam(learning_rate=1.0), [10.0, 0.1])
    np.testing.assert_allclose(unclipped, step(keras.optimizers.Adam(1.0), [10.0, 0.1]))


def test_the_runs_optimizer_follows_the_training_config():
    optimizer = make_optimizer(TrainingConfig(learning_rate=2e-3))
    assert (optimizer.clip_norm, optimizer.clip_value) == (4.0, 0.9)
    assert optimizer.epsilon == 1e-4 and float(optimizer.learning_rate) == pytest.approx(2e-3)
    off = make_optimizer(TrainingConfig(clipnorm=0.0, clipvalue=0.0))
    assert off.clip_norm is None and off.clip_value is None
    again = ClippedAdam.from_config(optimizer.get_config())
    assert (again.clip_norm, again.clip_value) == (4.0, 0.9)


def test_gradients_that_are_not_finite_leave_the_weights_as_they_are():
    optimizer = ClippedAdam(clip_norm=4.0, clip_value=0.9, learning_rate=1.0)
    variable = keras.Variable(np.ones(2, "float32"))
    optimizer.apply([np.array([0.5, -0.5], "float32")], [variable])
    moved = variable.numpy().copy()
    optimizer.apply([np.array([np.nan, 1.0], "float32")], [variable])
    np.testing.assert_array_equal(variable.numpy(), moved)
    assert float(optimizer.learning_rate) == 1.0  # restored after the skipped step
