import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.bounds import (
    IW_CHUNK_NUMBERS,
    IW_CHUNK_ROWS,
    chunked_iw_bound,
    free_bits_objective,
    iw_bound,
    iw_chunk_rows,
    per_unit_kl,
    training_objective,
)
from tf_lvae.config import ModelConfig
from tf_lvae.evaluation.batch_norm import batch_norm_chunk_rows
from tf_lvae.inference import LatentSample

tfd = tfp.distributions


def test_monte_carlo_kl_agrees_with_the_analytic_kl_on_average():
    rng = np.random.default_rng(0)
    shape = (1, 6)
    q = tfd.Normal(rng.normal(size=shape).astype("f4"), rng.uniform(0.3, 2, shape).astype("f4"))
    p = tfd.Normal(rng.normal(size=shape).astype("f4"), rng.uniform(0.3, 2, shape).astype("f4"))
    n = 200_000
    q_rows = tfd.Normal(tf.tile(q.loc, [n, 1]), tf.tile(q.scale, [n, 1]))
    p_rows = tfd.Normal(tf.tile(p.loc, [n, 1]), tf.tile(p.scale, [n, 1]))
    z = q_rows.sample(seed=(1, 2))
    mc = per_unit_kl(LatentSample(z, q_rows, p_rows), "mc").numpy()
    analytic = per_unit_kl(LatentSample(z, q_rows, p_rows), "analytic").numpy()[0]
    np.testing.assert_allclose(analytic, tfd.kl_divergence(q, p).numpy()[0], rtol=1e-6)
    stderr = mc.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(mc.mean(axis=0) - analytic) < 5 * stderr + 1e-4)


def test_iw_bound_is_log_mean_exp():
    log_w = tf.constant([[0.0, -1000.0], [math.log(3.0), -1001.0]])
    np.testing.assert_allclose(
        iw_bound(log_w, axis=0), [math.log(2.0), -1000 + math.log((1 + math.exp(-1)) / 2)]
    )


def test_training_objective_orders_mc_then_iw_samples_and_scales_the_kl_by_beta():
    mc, iw, batch = 2, 3, 4
    rng = np.random.default_rng(0)
    log_px = tf.constant(rng.normal(size=mc * iw * batch) * 3, tf.float32)
    kl = tf.constant(rng.uniform(0, 5, size=mc * iw * batch), tf.float32)
    log_w = (log_px - 0.5 * kl).numpy().reshape(mc, iw, batch)
    expected = np.mean(np.log(np.mean(np.exp(log_w), axis=1)))
    np.testing.assert_allclose(training_objective(log_px, kl, 0.5, mc, iw), expected, rtol=1e-5)
    np.testing.assert_allclose(
        training_objective(log_px, kl, 0.0, 1, 1), tf.reduce_mean(log_px), rtol=1e-6
    )
    # The IW bound over the same log weights is never below their mean.
    assert training_objective(log_px, kl, 1.0, 1, mc * iw) >= training_objective(
        log_px, kl, 1.0, mc * iw, 1
    )


@pytest.mark.parametrize(("num_samples", "chunk"), [(10, 3), (12, 4), (5, 100), (1, 1)])
def test_chunked_iw_bound_equals_the_bound_over_all_samples(num_samples, chunk):
    seed = tf.constant([7, 9])

    def log_weights(n, s):
        return tf.random.stateless_normal([n, 5], seed=s) * 30.0 - 500.0

    iw, elbo = chunked_iw_bound(log_weights, num_samples, chunk, seed)
    full, rest = divmod(num_samples, min(chunk, num_samples))
    parts = [
        log_weights(min(chunk, num_samples), tf.random.experimental.stateless_fold_in(seed, i))
        for i in range(full)
    ]
    if rest:
        parts.append(log_weights(rest, tf.random.experimental.stateless_fold_in(seed, full)))
    every = tf.concat(parts, axis=0)
    np.testing.assert_allclose(iw, iw_bound(every, axis=0), rtol=1e-6)
    np.testing.assert_allclose(elbo, tf.reduce_mean(every, axis=0), rtol=1e-6)


def test_chunked_iw_bound_runs_compiled():
    fn = tf.function(
        lambda seed: chunked_iw_bound(
            lambda n, s: tf.random.stateless_normal([n, 3], seed=s), 25, 4, seed
        ),
        jit_compile=True,
    )
    iw, elbo = fn(tf.constant([1, 2]))
    assert iw.shape == elbo.shape == (3,)
    assert np.all(iw.numpy() >= elbo.numpy())


@pytest.mark.parametrize("num_samples", [1, 7, 16, 30])
def test_chunked_iw_bound_takes_a_tensor_number_of_samples(num_samples):
    seed = tf.constant([3, 4])

    def log_weights(n, s):
        return tf.random.stateless_normal([n, 4], seed=s) * 20.0

    fn = tf.function(
        lambda k: chunked_iw_bound(log_weights, k, 8, seed),
        input_signature=[tf.TensorSpec([], tf.int32)],
    )
    expected = chunked_iw_bound(log_weights, num_samples, 8, seed)
    for got in (chunked_iw_bound(log_weights, tf.constant(num_samples), 8, seed), fn(num_samples)):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples must be >= 1"):
        fn(0)


@pytest.mark.parametrize(
    ("group", "kl_terms"), [("layer", [0.5, 0.3]), ("channel", [0.5, 0.2, 0.1])]
)
def test_free_bits_floor_each_groups_batch_mean_kl(group, kl_terms):
    # Two layers of [rows, 2, 1, channels]: per-unit KLs set by the prior's mean (q = N(0, 1),
    # z = 0, p = N(m, 1): log q(0) - log p(0) = m² / 2).
    def layer(means):  # means [rows, 2, 1, C]
        means = tf.constant(means, tf.float32)
        q = tfd.Normal(tf.zeros_like(means), tf.ones_like(means))
        return LatentSample(tf.zeros_like(means), q, tfd.Normal(means, tf.ones_like(means)))

    rows = 2
    # layer 1: one channel whose two positions carry KL 0.2 and 0.0 on row 0, 0.6 and 0.2 on
    # row 1 -> its batch mean 0.5; layer 2: two channels of batch means 0.3 (as a layer) and
    # 0.2 and 0.1
    first = np.sqrt(2 * np.array([[0.2, 0.0], [0.6, 0.2]])).reshape(rows, 2, 1, 1)
    second = np.sqrt(2 * np.array([[[0.2, 0.1], [0.0, 0.0]], [[0.2, 0.1], [0.0, 0.0]]]))
    samples = [layer(first), layer(second.reshape(rows, 2, 1, 2))]
    log_px = tf.constant([-10.0, -20.0])
    for free_bits in (0.0, 0.25, 1.0):
        expected = -15.0 - 0.5 * sum(max(free_bits, k) for k in kl_terms)
        got = free_bits_objective(log_px, samples, 0.5, free_bits, group)
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_wide_likelihood_head_sizes_the_rows_of_the_iw_bound():
    """The logistic mixture's 30 parameters per pixel make an MLP's rows wide: the bound
    draws as many numbers at once as the paper's MLP does in IW_CHUNK_ROWS rows."""
    paper = ModelConfig()
    assert iw_chunk_rows(paper) == IW_CHUNK_ROWS
    mixture = ModelConfig(likelihood="logistic-mixture", mixture_components=10)
    assert iw_chunk_rows(mixture) == IW_CHUNK_NUMBERS // (784 * 30)
    # the batch-norm pass does not run the head: the MLP keeps the authors' one batch
    assert batch_norm_chunk_rows(mixture) is None and batch_norm_chunk_rows(paper) is None
