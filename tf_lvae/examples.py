"""What a valid batch of examples is for a model, in one place: the Python API (`fit`,
`score`, `encode`, `reconstruct`, `infer`) and the exported signatures apply these rules.

A batch is float-valued [B, *input_shape] (or a stack of batches [k, B, *input_shape]),
every value finite and within `value_range`: probabilities or binary pixels for a
Bernoulli likelihood, grey values on [0, 1] for a Gaussian one, and for the logistic mixture
8-bit levels k / 255 (`levels`: within LEVEL_TOLERANCE of one).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf_lvae.config import DISCRETE_LIKELIHOODS, ModelConfig
from tf_lvae.constants import EIGHT_BIT_LEVELS

VALUE_RANGE = (0.0, 1.0)
LEVEL_TOLERANCE = 1e-3  # of a level: float32's k / 255 is within 1e-5 of one


def value_range(config: ModelConfig) -> tuple[float, float]:
    """(low, high): the values an example of this model may hold, both included."""
    del config  # the same for every likelihood
    return VALUE_RANGE


def levels(config: ModelConfig) -> int | None:
    """L when every value must be a level k / (L - 1) (the logistic mixture's 8-bit
    images: 256), else None."""
    return EIGHT_BIT_LEVELS if config.likelihood in DISCRETE_LIKELIHOODS else None


def off_level(values, count: int):
    """|values (L - 1) - round(values (L - 1))| for L = count: each value's distance from
    the nearest level, in levels (NumPy or TensorFlow alike)."""
    scaled = values * (count - 1)
    return abs(scaled - (np.round(scaled) if isinstance(values, np.ndarray) else tf.round(scaled)))


def _shape_problem(shape: tuple, config: ModelConfig) -> str | None:
    example = tuple(config.input_shape)
    if len(shape) in (len(example) + 1, len(example) + 2) and tuple(shape[-len(example) :]) == (
        example
    ):
        return None
    return f"has shape {list(shape)}, not [batch, {', '.join(map(str, example))}]"


def check_examples(x, config: ModelConfig, name: str = "x") -> None:
    """Raises ValueError naming what is wrong with the batch x (an array or eager tensor):
    its shape, a value that is not finite, or values outside `value_range`."""
    array = x.numpy() if isinstance(x, tf.Tensor) else np.asarray(x)
    low, high = value_range(config)
    count = levels(config)
    problem = _shape_problem(array.shape, config)
    if problem is None and not np.issubdtype(array.dtype, np.number):
        problem = f"holds {array.dtype} values, not numbers"
    if problem is None and array.size:
        finite = np.isfinite(array)
        if not finite.all():
            problem = f"holds {array.size - int(finite.sum())} values that are not finite"
        elif array.min() < low or array.max() > high:
            problem = f"holds values from {array.min():g} to {array.max():g}"
        elif count and (off_level(array.astype(np.float64), count) > LEVEL_TOLERANCE).any():
            problem = f"holds values that are not levels k / {count - 1}"
    if problem is not None:
        raise ValueError(f"{name} {problem}: the model takes {_valid(config)}")


def _valid(config: ModelConfig) -> str:
    """What a valid batch is, for the messages."""
    low, high = value_range(config)
    count = levels(config)
    values = (
        f"8-bit levels k / {count - 1} (k = 0..{count - 1}: divide the bytes by {count - 1})"
        if count
        else f"finite values in [{low:g}, {high:g}] (8-bit images: divide by 255)"
    )
    return f"examples [batch, {', '.join(map(str, config.input_shape))}] with {values}"


def checked(x, config: ModelConfig, name: str = "x"):
    """x after `check_examples` when TensorFlow runs eagerly; in a traced function, whose
    inputs are checked where they enter it (`checked_dataset`, the exported signatures), x
    as it is."""
    if tf.executing_eagerly():
        check_examples(x, config, name)
    return x


def checked_dataset(dataset: tf.data.Dataset, config: ModelConfig) -> tf.data.Dataset:
    """The dataset with every batch checked as `check_examples` does, in the input pipeline
    (elements x, (x,), (x, y) or (x, y, weights)): a bad batch stops iteration with an
    InvalidArgumentError naming what is wrong."""
    low, high = value_range(config)
    count = levels(config)
    valid_text = _valid(config)
    example = list(config.input_shape)

    def check(*element):
        x = element[0]
        values = tf.cast(x, tf.float32)
        rank, shape = tf.rank(values), tf.shape(values)
        shape_ok = (rank >= len(example) + 1) & (rank <= len(example) + 2)
        shape_ok &= tf.reduce_all(tf.equal(shape[-len(example) :], example))
        # three reductions, no temporaries: the sum is finite iff every value is (values in
        # range cannot overflow it)
        smallest, largest = tf.reduce_min(values), tf.reduce_max(values)
        finite = tf.math.is_finite(tf.reduce_sum(values))
        valid = finite & (smallest >= low) & (largest <= high)
        got = [smallest, "to", largest]
        if count:
            off = tf.reduce_max(off_level(values, count))
            valid &= off <= LEVEL_TOLERANCE
            got += ["at most this many levels from a level:", off]
        assertions = [
            tf.debugging.Assert(shape_ok, [f"x must be {valid_text}; got shape", shape]),
            tf.debugging.Assert(valid, [f"x must be {valid_text}; got values from", *got]),
        ]
        with tf.control_dependencies(assertions):
            x = tf.identity(x)
        return (x, *element[1:]) if len(element) > 1 else x

    return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
