"""Batch-norm statistics as the authors evaluated: recomputed from one pass over the
training set (docs/method.md §4) instead of the moving averages kept during training.

The authors pass the whole (freshly binarized) training set through the network in one
batch, every batch-norm layer normalizing by the mean and variance of its own inputs
over that batch and storing them. `recompute_batch_norm_statistics` does the same, so
each BatchNormalization layer ends up holding the population mean and (biased)
variance of its inputs over the training set, given that every layer before it
normalizes with its own population statistics. Memory grows with the training set:
about 0.5 GB above the model for the 60,000 MNIST images and the 5-layer LVAE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.config import BATCH_NORM_CHOICES, RunConfig
from tf_lvae.data import DatasetArrays
from tf_lvae.data.splits import split_examples, training_images
from tf_lvae.model import HierarchicalVAE


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer inside `model`, at any depth."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def recompute_batch_norm_statistics(model: HierarchicalVAE, x: np.ndarray, seed: int = 0) -> int:
    """Sets every batch-norm layer's moving mean and variance to the population statistics
    of its inputs over x [N, *input_shape], from one pass in training mode with one
    posterior sample per example (drawn with `seed`). Returns the number of layers set,
    and records what it did in `model.batch_norm_statistics` (saved with the model).

    Overwrites the model's moving averages in place: apply it to a freshly loaded copy
    (e.g. `runs.checkpoints.load_run_model`) or at the end of training, never to a model that
    is still training. The result depends only on the weights, x and seed.
    """
    layers = batch_norm_layers(model)
    frozen = [layer.name for layer in layers if not layer.trainable]
    if frozen:
        raise ValueError(f"batch-norm layers {frozen} are frozen: their statistics cannot be set")
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0  # the moving statistics become this batch's statistics
        samples = model.infer(tf.constant(x, model.compute_dtype), seed=seed, training=True)
        model.generative.likelihood(samples[0].z, training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    model.batch_norm_statistics = {"recomputed_from": len(x), "seed": int(seed)}
    return len(layers)


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
        f", binarized afresh (seed {seed})"
        if data.binarize
        else f", dequantized afresh (seed {seed})"
        if data.dequantize
        else ""
    )
    description = (
        f"recomputed from one pass over the {len(x_train):,} training images{fresh}, "
        "as the authors evaluated"
    )
    record = {"used": "recomputed", "training_examples": len(x_train), "seed": int(seed)}
    if model.batch_norm_statistics == {"recomputed_from": len(x_train), "seed": int(seed)}:
        return {**record, "description": f"{description}, stored with the model", "seconds": 0.0}
    start = time.perf_counter()
    recompute_batch_norm_statistics(model, training_images(data, x_train, seed), seed)
    seconds = round(time.perf_counter() - start, 1)
    print_fn(f"batch-norm statistics {description} ({seconds} s)")
    return {**record, "description": description, "seconds": seconds}
