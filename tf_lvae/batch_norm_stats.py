"""Batch-norm statistics as the authors evaluated: recomputed from one pass over the
training set (SPEC §3) instead of the moving averages kept during training.

The authors pass the whole (freshly binarized) training set through the network in one
batch, every batch-norm layer normalizing by the mean and variance of its own inputs
over that batch and storing them. `recompute_batch_norm_statistics` does the same, so
each BatchNormalization layer ends up holding the population mean and (biased)
variance of its inputs over the training set, given that every layer before it
normalizes with its own population statistics. Memory grows with the training set:
about 0.5 GB above the model for the 60,000 MNIST images and the 5-layer LVAE.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.data import binarize_once
from tf_lvae.model import HierarchicalVAE


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer inside `model`, at any depth."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def training_images(x_train: np.ndarray, binarize: bool, seed: int) -> np.ndarray:
    """The training set for the statistics pass: a fresh Bernoulli draw from the grey
    values with `seed` when the data is binarized in training, else as is."""
    return binarize_once(x_train, seed) if binarize else x_train


def recompute_batch_norm_statistics(model: HierarchicalVAE, x: np.ndarray, seed: int = 0) -> int:
    """Sets every batch-norm layer's moving mean and variance to the population statistics
    of its inputs over x [N, *input_shape], from one pass in training mode with one
    posterior sample per example (drawn with `seed`). Returns the number of layers set.

    Overwrites the model's moving averages in place: apply it to a freshly loaded copy
    (e.g. `checkpointing.load_run_model`), never to a model that is still training.
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
    return len(layers)
