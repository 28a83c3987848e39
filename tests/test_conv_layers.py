import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_lvae.conv_layers import (
    ConvBlock,
    ConvGaussianHead,
    ResamplingConv2D,
    ResidualBlock,
    stride_for,
)


def images(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=shape), tf.float32)


@pytest.mark.parametrize(
    ("size", "target", "stride"), [(28, 14, 2), (7, 4, 2), (28, 7, 4), (5, 2, 3), (4, 4, 1)]
)
def test_the_stride_rounds_up_as_same_padding_does(size, target, stride):
    assert stride_for(size, target) == stride


def test_no_stride_reaches_some_sizes():
    with pytest.raises(ValueError, match="no stride takes a spatial size of 9 to 4"):
        stride_for(9, 4)


@pytest.mark.parametrize(
    ("input_shape", "size"),
    [
        ((3, 28, 28, 1), (14, 14)),
        ((3, 7, 7, 5), (4, 4)),
        ((3, 4, 4, 5), (7, 7)),
        ((3, 7, 7, 2), (7, 7)),
    ],
)
def test_resampling_convolution_reaches_its_size(input_shape, size):
    layer = ResamplingConv2D(6, size)
    out = layer(images(input_shape))
    assert out.shape == (3, *size, 6) == layer.compute_output_shape(input_shape)


def test_upsampling_is_nearest_neighbour_then_convolution():
    layer = ResamplingConv2D(2, (4, 4), kernel_size=1, use_bias=False)
    x = images((1, 2, 2, 1))
    out = layer(x)
    kernel = layer.conv.kernel.numpy()[0, 0, 0]  # [2]
    expected = np.repeat(np.repeat(x.numpy(), 2, axis=1), 2, axis=2) * kernel
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_residual_block_adds_its_input_and_keeps_the_shape():
    block = ResidualBlock(activation="tanh", batch_norm=False)
    x = images((2, 5, 5, 4))
    block(x)
    for conv in block.conv:
        conv.kernel.assign(tf.zeros_like(conv.kernel))
        conv.bias.assign(tf.zeros_like(conv.bias))
    np.testing.assert_array_equal(block(x), x)  # the residual branch is zero


def test_conv_block_downsamples_then_normalizes():
    block = ConvBlock(8, (7, 7), residual_blocks=2, activation="leaky_relu")
    x = images((16, 14, 14, 3))
    out = block(x, training=True)
    assert out.shape == (16, 7, 7, 8)
    assert len(block.blocks) == 2 and block.project.conv.strides == (2, 2)
    # the projection's kernel and bias; per residual block two kernels (no biases: batch
    # norm follows) and two batch norms' scale and offset; the last batch norm's
    assert len(block.trainable_weights) == 2 + 2 * (2 + 2 * 2) + 2


def test_conv_gaussian_head_variance_is_softplus_plus_floor():
    head = ConvGaussianHead(3, (8, 8), min_variance=1e-3)
    x = images((2, 4, 4, 5)) * 100
    mean, var = head(x)
    assert mean.shape == var.shape == (2, 8, 8, 3)
    raw = head.project(x)[..., 3:]
    np.testing.assert_allclose(var, tf.nn.softplus(raw) + 1e-3, rtol=1e-6)
    assert head.compute_dtype == "float32"


def test_gradients_reach_every_weight():
    block = ConvBlock(4, (4, 4), residual_blocks=1)
    head = ConvGaussianHead(2, (8, 8), batch_norm=True)
    x = images((4, 8, 8, 1))
    with tf.GradientTape() as tape:
        mean, var = head(block(x, training=True), training=True)
        loss = tf.reduce_sum(mean**2 + var)
    weights = block.trainable_weights + head.trainable_weights
    grads = tape.gradient(loss, weights)
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)


@pytest.mark.parametrize(
    "layer",
    [
        ResamplingConv2D(3, (4, 4), kernel_size=1),
        ResidualBlock(activation="tanh", batch_norm=False),
        ConvBlock(8, (7, 7), residual_blocks=1),
        ConvGaussianHead(4, (7, 7), batch_norm=True),
    ],
)
def test_layers_round_trip_through_their_config(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
