"""The objectives: per-unit KL, the ELBO, and the importance-weighted bound (docs/method.md §2).

Shapes: with S samples per example and B examples, per-sample terms are [S * B]
(sample-major rows, see `inference.tile_samples`) or [S, B] once split.
Log weights are log p(x, z) - log q(z | x) = log p(x | z) - sum of layer KLs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.architecture import architecture_of
from tf_lvae.constants import PAPER_HIDDEN_DIMS

if TYPE_CHECKING:
    from tf_lvae.config import ModelConfig
    from tf_lvae.inference import LatentSample

tfd = tfp.distributions

# Examples x samples drawn at once by the chunked IW bound: chunks of a few thousand rows
# keep the activations in cache (benchmarks.iw_profile, docs/results/performance.md).
IW_CHUNK_ROWS = 4_096
DEFAULT_IW_CHUNK_SIZE = IW_CHUNK_ROWS // 256  # samples per chunk for a batch of 256
# A model with wide rows (`Architecture.row_numbers`: a convolutional one) draws as many
# numbers at once as the paper's MLP does in IW_CHUNK_ROWS rows of at most 512 units.
IW_CHUNK_NUMBERS = IW_CHUNK_ROWS * max(PAPER_HIDDEN_DIMS)


def iw_chunk_rows(config: ModelConfig) -> int:
    """Rows (examples x samples) the chunked IW bound draws at once for this model:
    IW_CHUNK_ROWS where rows are narrow (an MLP), else as many as keep its widest
    activation within IW_CHUNK_NUMBERS numbers."""
    numbers = architecture_of(config).row_numbers(config)
    return IW_CHUNK_ROWS if numbers is None else max(1, IW_CHUNK_NUMBERS // numbers)


def iw_chunk_size(num_samples: int, batch_size: int, rows: int = IW_CHUNK_ROWS) -> int:
    """Samples per chunk of the chunked IW bound on batches of batch_size examples, so that
    one chunk holds at most `rows` rows (at least one sample, and no more than
    num_samples; `iw_chunk_rows` gives a model's)."""
    return max(1, min(num_samples, rows // batch_size))


def per_unit_kl(sample: LatentSample, estimator: str = "mc") -> tf.Tensor:
    """KL(q || p) of every unit of one latent layer, [rows, *latent_shape], in nats.

    "mc": log q(z) - log p(z) at the sample z (the paper's estimator; its mean is
    the KL). "analytic": the closed-form KL between the two Gaussians, exact for
    the layer given the sample above it.
    """
    if estimator == "analytic":
        return tfd.kl_divergence(sample.posterior, sample.prior)
    if estimator == "mc":
        return sample.posterior.log_prob(sample.z) - sample.prior.log_prob(sample.z)
    raise ValueError(f"estimator must be 'mc' or 'analytic', got {estimator!r}.")


def layer_kls(samples: list[LatentSample], estimator: str = "mc") -> list[tf.Tensor]:
    """KL of each latent layer (summed over its units), bottom to top, each [rows]."""
    return [sum_per_row(per_unit_kl(s, estimator)) for s in samples]


def sum_per_row(t: tf.Tensor) -> tf.Tensor:
    """[rows, ...] -> [rows]: the sum over every other axis."""
    return tf.reduce_sum(t, axis=list(range(1, len(t.shape))))


def split_samples(t: tf.Tensor, num_samples: int) -> tf.Tensor:
    """[S * B, ...] -> [S, B, ...]."""
    return tf.reshape(t, [num_samples, -1, *t.shape[1:]])


def iw_bound(log_weights: tf.Tensor, axis: int = 0) -> tf.Tensor:
    """log (1/K) sum_k exp(log_weights_k) over `axis` of size K (eq. 12); K = 1 gives the ELBO."""
    k = tf.cast(tf.shape(log_weights)[axis], log_weights.dtype)
    return tf.reduce_logsumexp(log_weights, axis=axis) - tf.math.log(k)


def training_objective(
    log_px: tf.Tensor,
    kl: tf.Tensor,
    beta: tf.Tensor | float,
    mc_samples: int,
    iw_samples: int,
) -> tf.Tensor:
    """The bound the training maximizes, a scalar: the mean over examples and MC samples of
    the importance-weighted bound over IW samples, with the KL scaled by beta (eq. 22).

    log_px, kl: [mc_samples * iw_samples * B], rows ordered (mc, iw, example).
    With one sample and beta = 1 this is the ELBO.
    """
    log_w = tf.reshape(log_px - beta * kl, [mc_samples, iw_samples, -1])
    return tf.reduce_mean(iw_bound(log_w, axis=1))


def free_bits_objective(
    log_px: tf.Tensor,
    samples: list[LatentSample],
    beta: tf.Tensor | float,
    free_bits: float,
    group: str = "layer",
    estimator: str = "mc",
) -> tf.Tensor:
    """The ELBO with free bits (Kingma et al. 2016; docs/method.md §7), a scalar:
    mean(log p(x | z)) - beta * sum over groups j of max(free_bits, batch mean of KL_j).

    Groups are each latent layer ("layer") or each channel of each layer ("channel": the
    last axis, summed over positions; for an MLP, each unit). log_px [rows]; the rows of the
    samples are every MC sample of every example, whose mean is the batch mean.
    """
    kl = 0.0
    for sample in samples:
        unit_kl = per_unit_kl(sample, estimator)
        if group == "layer":
            groups = sum_per_row(unit_kl)
        elif group == "channel":
            groups = tf.reduce_sum(unit_kl, axis=list(range(1, len(unit_kl.shape) - 1)))
        else:
            raise ValueError(f"group must be 'layer' or 'channel', got {group!r}.")
        kl += tf.reduce_sum(tf.maximum(free_bits, tf.reduce_mean(groups, axis=0)))
    return tf.reduce_mean(log_px) - beta * kl


def chunked_iw_bound(
    log_weights_fn: Callable[[int | tf.Tensor, tf.Tensor], tf.Tensor],
    num_samples: int | tf.Tensor,
    chunk_size: int | tf.Tensor,
    seed: tf.Tensor,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The IW bound with K = num_samples, drawn in chunks so memory does not grow with K.

    log_weights_fn(n, seed) must return [n, B] log weights for n fresh samples.
    Returns (iw_bound [B], elbo [B]): the bound over all K samples and the mean log
    weight (the ELBO estimated with K samples). A running log-sum-exp keeps it exact.

    K and chunk_size are Python ints (static chunk shapes, as XLA needs) or scalar integer
    tensors (e.g. from a serving request): then the chunk sizes are computed in the graph
    and the last, partial chunk runs under tf.cond. Both draw the same samples for the
    same K and chunk size.
    """
    static = isinstance(num_samples, int) and isinstance(chunk_size, int)
    if (isinstance(chunk_size, int) and chunk_size < 1) or (static and num_samples < 1):
        raise ValueError(f"num_samples and chunk_size must be >= 1: {num_samples}, {chunk_size}")
    if static:
        chunk = min(chunk_size, num_samples)
    else:
        num_samples = tf.cast(num_samples, tf.int32)
        positive = tf.debugging.assert_positive(num_samples, message="num_samples must be >= 1")
        with tf.control_dependencies([positive]):
            chunk = tf.minimum(chunk_size, num_samples)
    full_chunks, rest = num_samples // chunk, num_samples % chunk

    def chunk_stats(n, index) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        log_w = log_weights_fn(n, tf.random.experimental.stateless_fold_in(seed, index))
        peak = tf.reduce_max(log_w, axis=0)
        return peak, tf.reduce_sum(tf.exp(log_w - peak), axis=0), tf.reduce_sum(log_w, axis=0)

    def merge(acc, new):
        peak = tf.maximum(acc[0], new[0])
        scaled = acc[1] * tf.exp(acc[0] - peak) + new[1] * tf.exp(new[0] - peak)
        return peak, scaled, acc[2] + new[2]

    def merge_rest(acc):
        return merge(acc, chunk_stats(rest, full_chunks))

    acc = chunk_stats(chunk, 0)
    _, *acc = tf.while_loop(
        lambda i, *_: i < full_chunks,
        lambda i, *a: (i + 1, *merge(a, chunk_stats(chunk, i))),
        (tf.constant(1), *acc),
    )
    if not static:
        acc = tf.cond(rest > 0, lambda: merge_rest(acc), lambda: tuple(acc))
    elif rest:
        acc = merge_rest(acc)
    peak, scaled, total = acc
    k = tf.cast(num_samples, peak.dtype)
    return peak + tf.math.log(scaled) - tf.math.log(k), total / k
