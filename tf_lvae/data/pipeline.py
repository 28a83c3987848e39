"""tf.data input pipelines over in-memory arrays, reproducible per (seed, epoch).

Epoch ``e`` of ``train_dataset`` is a fresh permutation and, with ``binarize``, a
fresh Bernoulli draw from the grey values (or, with ``dequantize_levels``, fresh uniform
dequantization noise); all depend only on ``(seed, e)``, so a run resumed at epoch ``e``
sees exactly the data an uninterrupted run would. The fixed draws of the evaluated images
are in `tf_lvae.data.splits`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf


def steps_per_epoch(x: np.ndarray, batch_size: int) -> int:
    """Returns the number of full batches in one epoch: len(x) // batch_size."""
    return len(x) // batch_size


def _gather(x: np.ndarray, rows: tf.Tensor) -> tf.Tensor:
    """Returns x[rows] as a float32 tensor [len(rows), *image_shape].

    Reads the numpy array in place (no second copy of the data in TensorFlow).
    """
    batch = tf.numpy_function(lambda r: x[r], [rows], tf.float32, stateful=False)
    return tf.ensure_shape(batch, (None, *x.shape[1:]))


def _binarize(batch: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
    """Returns a float32 {0, 1} Bernoulli draw with probabilities ``batch`` (same shape)."""
    return tf.cast(tf.random.stateless_uniform(tf.shape(batch), seed=key) < batch, tf.float32)


def _dequantize(batch: tf.Tensor, key: tf.Tensor, levels: int) -> tf.Tensor:
    """Returns (k + u) / levels for the values k / (levels - 1) of ``batch``, u ~ U[0, 1)."""
    noise = tf.random.stateless_uniform(tf.shape(batch), seed=key)
    return (tf.round(batch * (levels - 1)) + noise) / levels


def train_dataset(
    x: np.ndarray,
    *,
    batch_size: int,
    binarize: bool,
    seed: int,
    epochs: int,
    initial_epoch: int = 0,
    dequantize_levels: int | None = None,
) -> tf.data.Dataset:
    """Returns float32 batches [batch_size, *image_shape] of x for epochs initial_epoch..epochs-1.

    Each epoch has steps_per_epoch(x, batch_size) batches, back to back. Batch ``b`` of
    epoch ``e`` holds positions b*B .. (b+1)*B-1 of a permutation keyed by (seed, e)
    (remainder dropped); with ``binarize`` each pixel is then drawn from
    Bernoulli(grey value), with ``dequantize_levels`` L each value k / (L - 1) becomes
    (k + u) / L, u ~ U[0, 1), with a key derived from (seed, e, b).
    """
    if not 1 <= batch_size <= len(x):
        raise ValueError(
            f"batch_size must be in 1..{len(x)} (the number of examples), got {batch_size}"
        )
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"need 0 <= initial_epoch <= epochs, got {initial_epoch}, {epochs}")
    x = np.asarray(x, dtype=np.float32)
    steps = steps_per_epoch(x, batch_size)
    max_index = tf.constant(len(x) - 1, tf.int64)
    offsets = tf.range(batch_size, dtype=tf.int64)
    seed = int(seed)

    def make_batch(step: tf.Tensor) -> tf.Tensor:
        epoch, index = step // steps, step % steps
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.index_shuffle(
            index * batch_size + offsets, seed=epoch_seed, max_index=max_index
        )
        batch = _gather(x, order)
        key = tf.random.experimental.stateless_fold_in(epoch_seed, index)
        if binarize:
            batch = _binarize(batch, key)
        elif dequantize_levels:
            batch = _dequantize(batch, key, dequantize_levels)
        return batch

    steps_range = tf.data.Dataset.range(initial_epoch * steps, epochs * steps)
    return steps_range.map(
        make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    ).prefetch(tf.data.AUTOTUNE)


def eval_dataset(x: np.ndarray, *, batch_size: int) -> tf.data.Dataset:
    """Returns x in order as float32 batches [<= batch_size, *image_shape], remainder kept."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = np.asarray(x, dtype=np.float32)
    count = len(x)
    starts = tf.data.Dataset.range(0, count, batch_size)
    return starts.map(
        lambda start: _gather(x, tf.range(start, tf.minimum(start + batch_size, count))),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    ).prefetch(tf.data.AUTOTUNE)


def seeded_batches(
    x: np.ndarray, batch_size: int, seed: int, first_batch: int = 0
) -> Iterator[tuple[tf.Tensor, tf.Tensor]]:
    """Yields (batch, its stateless seed, int32 [2]) over x in order (`eval_dataset`); the
    seed of batch i is folded from (seed, 0) and first_batch + i, so it depends only on seed
    and the batch's place: x[first_batch * batch_size:] draws what the whole x draws there."""
    base = tf.constant([seed, 0], tf.int32)
    for i, batch in enumerate(eval_dataset(x, batch_size=batch_size), start=first_batch):
        yield batch, tf.random.experimental.stateless_fold_in(base, i)
