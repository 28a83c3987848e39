"""TFP distributions built from network outputs: latent Gaussians and the likelihood.

Latent distributions keep one batch entry per unit (batch shape [rows, *latent_shape])
so that per-unit log densities and KLs are available; the likelihood is an Independent
distribution over the example (batch [rows], event config.data_shape).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def diagonal_normal(mean: tf.Tensor, variance: tf.Tensor) -> tfd.Normal:
    """N(mean, variance) per unit; batch shape = mean.shape. `variance` is a variance."""
    return tfd.Normal(loc=mean, scale=tf.sqrt(variance))


def standard_normal_like(z: tf.Tensor) -> tfd.Normal:
    """N(0, I) with the shape and dtype of `z` (the top prior p(z_L), eq. 4)."""
    return tfd.Normal(loc=tf.zeros_like(z), scale=tf.ones_like(z))


def bernoulli_likelihood(logits: tf.Tensor, event_ndims: int = 1) -> tfd.Distribution:
    """Bernoulli(sigmoid(logits)) over the last event_ndims axes (eq. 1); log_prob accepts
    grey values."""
    return tfd.Independent(tfd.Bernoulli(logits=logits, dtype=logits.dtype), event_ndims)


def gaussian_likelihood(
    mean: tf.Tensor, variance: tf.Tensor, event_ndims: int = 1
) -> tfd.Distribution:
    """N(mean, variance) over the last event_ndims axes (eq. 2)."""
    return tfd.Independent(diagonal_normal(mean, variance), event_ndims)
