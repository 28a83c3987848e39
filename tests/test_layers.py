import numpy as np
import pytest
import tensorflow as tf

from tf_lvae.layers import GaussianHead, MLPBlock, activation_fn, precision_weighted_merge


def _normal_logpdf(x, mean, variance):
    return -0.5 * (np.log(2 * np.pi * variance) + (x - mean) ** 2 / variance)


def test_merge_is_the_normalized_product_of_the_two_gaussians():
    rng = np.random.default_rng(0)
    mean_a, mean_b = rng.normal(size=2)
    var_a, var_b = rng.uniform(0.1, 3.0, size=2)
    mean, var = (
        t.numpy()
        for t in precision_weighted_merge(
            tf.constant(mean_a), tf.constant(var_a), tf.constant(mean_b), tf.constant(var_b)
        )
    )
    # N(x; a) N(x; b) / N(x; merged) must not depend on x when the merge is the product.
    x = np.linspace(-5, 5, 101)
    ratio = _normal_logpdf(x, mean_a, var_a) + _normal_logpdf(x, mean_b, var_b)
    ratio -= _normal_logpdf(x, mean, var)
    np.testing.assert_allclose(ratio, ratio[0], atol=1e-9)
    # ... and the constant is the log normalizer, log N(a; b, var_a + var_b).
    np.testing.assert_allclose(ratio[0], _normal_logpdf(mean_a, mean_b, var_a + var_b))


def test_merge_leans_towards_the_more_precise_gaussian():
    mean, var = precision_weighted_merge(
        tf.constant([0.0]), tf.constant([1e-4]), tf.constant([10.0]), tf.constant([1e4])
    )
    assert abs(float(mean[0])) < 1e-3
    assert float(var[0]) < 1e-4


def test_gaussian_head_variance_is_softplus_plus_floor():
    head = GaussianHead(3, min_variance=1e-3)
    x = tf.constant(np.random.default_rng(0).normal(size=(5, 4)) * 100, tf.float32)
    mean, var = head(x)
    assert mean.shape == var.shape == (5, 3)
    raw = head.dense(x)[:, 3:]
    np.testing.assert_allclose(var, tf.nn.softplus(raw) + 1e-3, rtol=1e-6)
    assert float(tf.reduce_min(var)) >= 1e-3


def test_leaky_relu_has_the_papers_slope():
    np.testing.assert_allclose(activation_fn("leaky_relu")(tf.constant([-2.0, 3.0])), [-0.2, 3.0])


def test_mlp_block_uses_batch_statistics_in_training_and_moving_statistics_otherwise():
    block = MLPBlock(8, activation="tanh", batch_norm=True)
    x = tf.constant(np.random.default_rng(1).normal(size=(64, 5)), tf.float32)
    shifted = x + 3.0
    # Batch statistics remove any per-feature shift of the batch after the first Dense layer.
    np.testing.assert_allclose(block(x, training=True), block(shifted, training=True), atol=1e-4)
    moving = [v.numpy().copy() for v in block.norm[0].non_trainable_weights]
    assert not np.allclose(block(x, training=False), block(shifted, training=False), atol=1e-2)
    after = [v.numpy() for v in block.norm[0].non_trainable_weights]
    for before, now in zip(moving, after, strict=True):
        np.testing.assert_array_equal(before, now)  # inference never updates them


def test_mlp_block_without_batch_norm_has_biases_and_no_norm_layers():
    block = MLPBlock(4, batch_norm=False)
    block.build((None, 3))
    assert block.norm == []
    assert all(d.use_bias for d in block.dense)


@pytest.mark.parametrize("layer", [MLPBlock(7, activation="tanh"), GaussianHead(5, 1e-4)])
def test_layers_round_trip_through_their_config(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
