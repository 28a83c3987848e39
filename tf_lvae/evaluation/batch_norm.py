"""Batch-norm statistics as the authors evaluated: recomputed from one pass over the
training set (docs/method.md §4) instead of the moving averages kept during training.

The authors pass the whole (freshly binarized) training set through the network in one
batch, every batch-norm layer normalizing by the mean and variance of its own inputs
over that batch and storing them. `recompute_batch_norm_statistics` does the same, so
each BatchNormalization layer ends up holding the population mean and (biased)
variance of its inputs over the training set, given that every layer before it
normalizes with its own population statistics. Memory grows with the training set times
the widest activation: modest for the MLP, far too much for a convolutional model in one
batch (docs/results/performance.md measures both). Given `chunk_rows`, it computes the
same statistics in chunks, layer after layer (`_recompute_in_chunks`), in memory bounded
by the chunk.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.architecture import architecture_of
from tf_lvae.config import BATCH_NORM_CHOICES, PIXEL_SCALES, ModelConfig
from tf_lvae.data import DatasetArrays
from tf_lvae.data.splits import split_examples, training_images
from tf_lvae.layers import batch_norm_layers
from tf_lvae.model import HierarchicalVAE
from tf_lvae.run_config import RunConfig


def recompute_batch_norm_statistics(
    model: HierarchicalVAE,
    x: np.ndarray,
    seed: int = 0,
    chunk_rows: int | None = None,
    pixel_scale: int = PIXEL_SCALES[0],
) -> int:
    """Sets every batch-norm layer's moving mean and variance to the population statistics
    of its inputs over x [N, *input_shape], from a pass in training mode with one
    posterior sample per example (drawn with `seed`). Returns the number of layers set,
    and records what it did in `model.batch_norm_statistics` (saved with the model), with
    the `pixel_scale` x was binarized from (`RunConfig.pixel_scale`).

    chunk_rows None (or >= N): one pass in one batch, as the authors did. Otherwise chunks
    of chunk_rows examples, one pass over them for each depth of batch-norm layers; chunk k
    draws its posterior samples with the seed (seed, k) in every pass, and every layer
    holds the exact population statistics of its inputs over that pass (memory: one chunk).

    Overwrites the model's moving averages in place: apply it to a freshly loaded copy
    (e.g. `runs.checkpoints.load_run_model`) or at the end of training, never to a model that
    is still training. The result depends only on the weights, x, seed and chunk_rows.
    """
    layers = batch_norm_layers(model)
    frozen = [layer.name for layer in layers if not layer.trainable]
    if frozen:
        raise ValueError(f"batch-norm layers {frozen} are frozen: their statistics cannot be set")
    if not layers:
        return 0
    chunk_rows = several_chunks(chunk_rows, len(x))
    momenta = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0  # the moving statistics become this batch's statistics
        if chunk_rows is None:
            _forward(model, tf.constant(x, model.compute_dtype), seed)
        else:
            _recompute_in_chunks(model, layers, x, seed, chunk_rows)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    model.batch_norm_statistics = statistics_record(len(x), seed, chunk_rows, pixel_scale)
    return len(layers)


def statistics_record(
    examples: int, seed: int, chunk_rows: int | None, pixel_scale: int = PIXEL_SCALES[0]
) -> dict[str, int]:
    """What `recompute_batch_norm_statistics` leaves in `model.batch_norm_statistics`; the
    pixel scale only when it is not 255, so that the records of models saved before it
    existed still match theirs."""
    record = {"recomputed_from": examples, "seed": int(seed)}
    if chunk_rows is not None:
        record["chunk_rows"] = int(chunk_rows)
    if pixel_scale != PIXEL_SCALES[0]:
        record["pixel_scale"] = int(pixel_scale)
    return record


# A model with wide rows (a convolutional one) passes the training set in chunks that hold
# this many numbers in its widest activation (128 MB of float32); one of narrow rows (an
# MLP) passes it in one batch, as the authors did.
BATCH_NORM_PASS_NUMBERS = 2**25


def batch_norm_chunk_rows(config: ModelConfig) -> int | None:
    """Examples the batch-norm statistics pass feeds at once: None (the whole training set
    in one batch) where rows are narrow, else as many as keep the widest activation within
    BATCH_NORM_PASS_NUMBERS numbers (`Architecture.row_numbers`, without the likelihood's
    head, which the pass does not run)."""
    numbers = architecture_of(config).row_numbers(config, likelihood_head=False)
    return None if numbers is None else max(1, BATCH_NORM_PASS_NUMBERS // numbers)


def several_chunks(chunk_rows: int | None, examples: int) -> int | None:
    """chunk_rows when it cuts `examples` into several chunks, else None (one batch)."""
    return chunk_rows if chunk_rows is not None and chunk_rows < examples else None


def _forward(model: HierarchicalVAE, x: tf.Tensor, seed) -> None:
    """One pass of x through every batch-norm layer in training mode: the inference model
    and the decoder's block on its samples (the likelihood's head has no batch norm)."""
    samples = model.infer(x, seed=seed, training=True)
    model.generative.decoder_mlp(samples[0].z, training=True)


def _recompute_in_chunks(
    model: HierarchicalVAE,
    layers: list[keras.layers.BatchNormalization],
    x: np.ndarray,
    seed: int,
    chunk_rows: int,
) -> None:
    """Sets the layers (at momentum 0) depth after depth: those no unset layer feeds get
    the population statistics of their inputs, pooled over the chunks, and are frozen
    (`trainable = False`: Keras then normalizes by the stored statistics) for the next."""
    starts = range(0, len(x), chunk_rows)
    chunks = [
        (tf.constant(x[i : i + chunk_rows], model.compute_dtype), tf.constant([seed, k]))
        for k, i in enumerate(starts)
    ]
    first = chunks[0][0]
    signature = [tf.TensorSpec([None, *first.shape[1:]], first.dtype), tf.TensorSpec([2], tf.int32)]
    unset = list(layers)
    try:
        while unset:
            # traced again for every depth: which layers are frozen is fixed in the graph
            forward = tf.function(
                functools.partial(_forward, model), input_signature=signature, autograph=False
            )
            ready, first = _ready_layers(forward, unset, chunks[0])
            for layer, (mean, variance) in zip(
                ready, _pooled_moments(forward, ready, chunks, first), strict=True
            ):
                layer.moving_mean.assign(mean)
                layer.moving_variance.assign(variance)
                layer.trainable = False
            unset = [layer for layer in unset if layer not in ready]
    finally:
        for layer in layers:
            layer.trainable = True


def _ready_layers(
    forward: Callable, unset: list[keras.layers.BatchNormalization], chunk: tuple
) -> tuple[list[keras.layers.BatchNormalization], list[tuple[np.ndarray, np.ndarray]]]:
    """The layers of `unset` that no unset layer feeds (the moments of their inputs over
    `chunk` stay bit for bit the same when every unset layer's scale and offset change),
    and those moments of each."""
    first = _input_moments(forward, unset, *chunk)
    with _perturbed(unset):
        probed = _input_moments(forward, unset, *chunk)
    ready = [
        (layer, a)
        for layer, a, b in zip(unset, first, probed, strict=True)
        if all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    ]
    if not ready:
        raise RuntimeError("every unset batch-norm layer is fed by another: none can be set")
    return [layer for layer, _ in ready], [moments for _, moments in ready]


def _pooled_moments(
    forward: Callable,
    layers: list[keras.layers.BatchNormalization],
    chunks: list[tuple],
    first: list[tuple[np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(mean, biased variance), float32 [channels], of each layer's inputs over all the
    chunks (`first`: their moments over chunks[0], already known): the per-chunk moments
    pooled in float64 (mean of the variances plus the variance of the means, weighted by
    chunk size)."""
    per_chunk = [first] + [_input_moments(forward, layers, *chunk) for chunk in chunks[1:]]
    sizes = np.array([len(x) for x, _ in chunks], np.float64)
    sizes /= sizes.sum()
    pooled = []
    for i in range(len(layers)):
        means = np.stack([moments[i][0] for moments in per_chunk]).astype(np.float64)
        variances = np.stack([moments[i][1] for moments in per_chunk]).astype(np.float64)
        mean = sizes @ means
        variance = sizes @ (variances + (means - mean) ** 2)
        pooled.append((mean.astype(np.float32), variance.astype(np.float32)))
    return pooled


def _input_moments(
    forward: Callable, layers: list[keras.layers.BatchNormalization], x: tf.Tensor, seed
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(mean, biased variance) [channels] of each layer's inputs over x, from one training
    pass (`forward`, all the layers at momentum 0)."""
    forward(x, seed)
    return [(layer.moving_mean.numpy(), layer.moving_variance.numpy()) for layer in layers]


@contextlib.contextmanager
def _perturbed(layers: list[keras.layers.BatchNormalization]):
    """Scales and offsets of `layers` changed at random for the block, then restored."""
    rng = np.random.default_rng(0)
    saved = [(layer.gamma.numpy(), layer.beta.numpy()) for layer in layers]
    try:
        for layer, (gamma, beta) in zip(layers, saved, strict=True):
            layer.gamma.assign(gamma * rng.uniform(0.5, 2.0, gamma.shape).astype(gamma.dtype))
            layer.beta.assign(beta + rng.normal(size=beta.shape).astype(beta.dtype))
        yield
    finally:
        for layer, (gamma, beta) in zip(layers, saved, strict=True):
            layer.gamma.assign(gamma)
            layer.beta.assign(beta)


def set_batch_norm_statistics(
    model: HierarchicalVAE,
    data: DatasetArrays,
    config: RunConfig,
    choice: str,
    seed: int,
    print_fn: Callable = print,
) -> dict[str, Any]:
    """Gives the model the batch-norm statistics `choice` names and returns what was used:
    {"used": "recomputed" | "moving" | "none", "description", ...}.

    "recomputed" (the authors' protocol): one pass over the run's training set, binarized
    afresh with `seed`; a model that already holds the statistics of that pass (the final
    model.keras of a run) keeps them. "moving": the model's own statistics, which must be
    the moving averages of training (a checkpoint).
    """
    if not batch_norm_layers(model):
        return {"used": "none", "description": "the model has no batch normalization"}
    if choice == "moving":
        return {"used": "moving", "description": "the moving averages kept during training"}
    if choice not in BATCH_NORM_CHOICES:
        raise ValueError(f"batch-norm statistics must be one of {BATCH_NORM_CHOICES}: {choice!r}")
    x_train = split_examples(data, "train", config.validation, config.training.seed)
    fresh = (
        f", binarized afresh from byte/{config.pixel_scale} (seed {seed})"
        if data.binarize and config.pixel_scale != PIXEL_SCALES[0]
        else f", binarized afresh (seed {seed})"
        if data.binarize
        else f", dequantized afresh (seed {seed})"
        if data.dequantize
        else ""
    )
    chunk_rows = several_chunks(batch_norm_chunk_rows(config.model), len(x_train))
    passes = "one pass over" if chunk_rows is None else "passes in chunks over"
    description = (
        f"recomputed from {passes} the {len(x_train):,} training images{fresh}, "
        "as the authors evaluated"
    )
    stored = statistics_record(len(x_train), seed, chunk_rows, config.pixel_scale)
    record = {
        "used": "recomputed",
        "training_examples": len(x_train),
        **{key: value for key, value in stored.items() if key != "recomputed_from"},
    }
    if chunk_rows is not None:
        description += f" (chunks of {chunk_rows:,}, one pass per depth of layers)"
    if model.batch_norm_statistics == stored:
        return {**record, "description": f"{description}, stored with the model", "seconds": 0.0}
    start = time.perf_counter()
    x = training_images(data, x_train, seed)
    recompute_batch_norm_statistics(model, x, seed, chunk_rows, config.pixel_scale)
    seconds = round(time.perf_counter() - start, 1)
    print_fn(f"batch-norm statistics {description} ({seconds} s)")
    return {**record, "description": description, "seconds": seconds}
