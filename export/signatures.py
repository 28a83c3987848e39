"""The exported signatures of a model and the checks of their inputs, which bound the work
of one request (`export.limits.ServingLimits`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from export.limits import ServingLimits
from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE, iw_chunk_rows
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES
from tf_lvae.examples import LEVEL_TOLERANCE, levels, off_level, value_range
from tf_lvae.model import HierarchicalVAE


@dataclass(frozen=True)
class Input:
    """A named signature input: dtype, required shape (None: any size) and allowed range."""

    name: str
    dtype: tf.DType
    shape: tuple[int | None, ...]
    low: float | None = None
    high: float | None = None
    max_batch: int | None = None
    levels: int | None = None  # values must be levels k / (levels - 1) (`tf_lvae.examples`)

    def spec(self) -> tf.TensorSpec:
        """Traced without a shape, so that `check` gives every wrong shape a clear error
        (a declared shape would let grappler fold that check away); `declared_shape` is
        what the signature's metadata says (see `export_model`)."""
        return tf.TensorSpec(None, self.dtype, name=self.name)

    @property
    def declared_shape(self) -> list[int]:
        """The shape for the signature's metadata, -1 for any size."""
        return [-1 if d is None else d for d in self.shape]

    def describe(self) -> str:
        """E.g. 'float32 of shape [batch, 28, 28] in [0, 1]' (batch <= N with a max_batch)."""
        batch = "batch" if self.max_batch is None else f"batch <= {self.max_batch}"
        dims = ", ".join(batch if d is None else str(d) for d in self.shape)
        text = f"{self.dtype.name} of shape [{dims}]" if self.shape else f"{self.dtype.name} scalar"
        if self.levels is not None:
            return f"{text} of levels k / {self.levels - 1}, k = 0..{self.levels - 1}"
        if self.high is not None:
            return f"{text} in [{self.low:g}, {self.high:g}]"
        return text if self.low is None else f"{text} >= {self.low:g}"

    def check(self, value: tf.Tensor) -> tf.Tensor:
        """value, after in-graph checks of its shape and range that fail with an
        InvalidArgument naming what is expected; with its static shape for what follows."""
        return self._check_range(self._check_shape(value))

    def _fail_unless(self, condition: tf.Tensor, got: str, *data) -> tf.Operation:
        message = f"{self.name} must be {self.describe()}; got {got}".rstrip()
        return tf.debugging.Assert(condition, [message, *data], summarize=16)

    def _check_shape(self, value: tf.Tensor) -> tf.Tensor:
        actual = tf.shape(value)
        expected = [-1 if d is None else d for d in self.shape]
        limit = tf.constant([self.max_batch or -1] + [-1] * (len(expected) - 1))
        shape_ok = tf.cond(
            tf.equal(tf.size(actual), len(expected)),
            lambda: tf.reduce_all(
                ((actual == expected) | (tf.constant(expected) < 0))
                & ((actual <= limit) | (limit < 0))
            ),
            lambda: tf.constant(False),
        )
        # A reshape, not set_shape or ensure_shape: grappler would take those for facts
        # about the input and fold the check away.
        with tf.control_dependencies([self._fail_unless(shape_ok, "shape", actual)]):
            return tf.reshape(value, expected)

    def _check_range(self, value: tf.Tensor) -> tf.Tensor:
        if self.low is None:
            return value
        in_range = value >= tf.cast(self.low, self.dtype)
        if self.high is not None:
            in_range &= value <= tf.cast(self.high, self.dtype)
        got = ("values from", tf.reduce_min(value), "to", tf.reduce_max(value))
        if self.levels is not None:
            off = tf.reduce_max(off_level(value, self.levels))
            in_range &= off <= LEVEL_TOLERANCE
            got += ("at most this many levels from a level:", off)
        if not self.shape:
            got = ("", value)
        with tf.control_dependencies([self._fail_unless(tf.reduce_all(in_range), *got)]):
            return tf.identity(value)


SEED = Input("seed", tf.int32, (2,))


def signatures(
    model: HierarchicalVAE,
    num_samples: int = PAPER_TEST_IW_SAMPLES,
    chunk_size: int = DEFAULT_IW_CHUNK_SIZE,
    score_seed: int = 0,
    limits: ServingLimits = ServingLimits(),
) -> dict[str, tuple[tuple[Input, ...], Callable[..., dict[str, tf.Tensor]]]]:
    """The exported signatures: name -> (inputs, function of those inputs -> named outputs).

    The first one is also served as "serving_default" (see `export_model`). score draws
    its K samples in chunks of at most chunk_size and `iw_chunk_rows` // batch samples, so its
    memory is bounded for every request within the limits.
    """
    config = model.model_config
    low, high = value_range(config)
    x = Input(
        "x",
        tf.float32,
        (None, *config.input_shape),
        low,
        high,
        max_batch=limits.max_batch,
        levels=levels(config),
    )
    k = Input("num_samples", tf.int32, (), low=1, high=limits.max_score_samples)
    count = Input("num_samples", tf.int32, (), low=1, high=limits.max_samples)
    from_layer = Input("from_layer", tf.int32, (), low=1, high=config.num_layers)
    temperature = Input("temperature", tf.float32, (), low=0, high=limits.max_temperature)

    rows = iw_chunk_rows(config)

    def score(x, num_samples):
        num_samples = tf.cast(num_samples, tf.int32)
        batch = tf.shape(x)[0]
        work = tf.cast(batch, tf.int64) * tf.cast(num_samples, tf.int64)
        within = tf.debugging.Assert(
            work <= limits.max_score_samples,
            [
                f"x examples x num_samples must be at most {limits.max_score_samples} "
                "(max_score_samples of the export); got",
                work,
            ],
        )
        with tf.control_dependencies([within]):
            chunk = tf.clip_by_value(rows // tf.maximum(batch, 1), 1, chunk_size)
        # an empty batch has nothing to score: one sample gives its empty answer at once
        num_samples = tf.where(batch > 0, num_samples, 1)
        return model.score(x, num_samples, chunk, seed=score_seed)

    def sample(num_samples, seed, from_layer=None, temperature=1.0):
        return {"images": model.sample(num_samples, from_layer, temperature, seed)}

    return {
        "score_default": ((x,), lambda x: score(x, num_samples)),
        "score": ((x, k), score),
        "encode": ((x,), model.encode),
        "reconstruct": ((x,), lambda x: {"reconstruction": model.reconstruct(x)}),
        "sample": ((count, SEED, from_layer, temperature), sample),
        "sample_default": ((count, SEED), sample),
    }


def checked(inputs: tuple[Input, ...], fn: Callable) -> Callable:
    """fn called on its inputs after their checks."""

    def call(*values):
        return fn(*(i.check(v) for i, v in zip(inputs, values, strict=True)))

    return call
