"""The convolutional building blocks (docs/method.md §7): a convolution that changes the
spatial size, the pre-activation residual block, a connection's block of them, and the
convolutional Gaussian head.

Tensors are [rows, height, width, channels]. A connection's block works at the resolution
of the coarser of the two layers it joins: bottom-up it starts with a strided convolution,
top-down its head makes the step up (nearest-neighbour upsampling, then a convolution).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from tf_lvae.layers import ActivatedLayer, NormalizedLayer, batch_norm_layer, gaussian_parameters


def stride_for(size: int, target: int) -> int:
    """The stride of a 'same'-padded convolution taking `size` to `target` (< size), which
    rounds up: ceil(size / stride) == target. Raises ValueError when there is none."""
    stride = math.ceil(size / target)
    if math.ceil(size / stride) != target:
        raise ValueError(f"no stride takes a spatial size of {size} to {target}")
    return stride


@keras.saving.register_keras_serializable(package="tf_lvae")
class ResamplingConv2D(keras.layers.Layer):
    """A `kernel_size` convolution to `filters` channels whose output is `size` = (H, W):
    strided when the input is larger (see `stride_for`), after nearest-neighbour
    upsampling when it is smaller. [rows, h, w, c] -> [rows, H, W, filters].

    The upsampling is TensorFlow's resize, the fastest measured on a CPU without XLA
    (docs/results/performance.md); XLA cannot differentiate it, and convolutional models
    train and evaluate without XLA (`Architecture.compiles_with_xla`)."""

    def __init__(
        self,
        filters: int,
        size: tuple[int, int],
        kernel_size: int = 3,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.size = tuple(size)
        self.kernel_size = kernel_size
        self.use_bias = use_bias
        self.conv: keras.layers.Conv2D | None = None
        self.upsample = False

    def build(self, input_shape):
        height, width = input_shape[1:3]
        strides = (1, 1)
        self.upsample = height < self.size[0] or width < self.size[1]
        if not self.upsample and (height, width) != self.size:
            strides = (stride_for(height, self.size[0]), stride_for(width, self.size[1]))
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=strides,
            padding="same",
            use_bias=self.use_bias,
            name="conv",
            dtype=self.dtype_policy,
        )
        in_size = self.size if self.upsample else (height, width)
        self.conv.build((input_shape[0], *in_size, input_shape[-1]))
        self.built = True

    def call(self, inputs):
        h = inputs
        if self.upsample:
            h = ops.image.resize(h, self.size, interpolation="nearest")
        return self.conv(h)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "size": list(self.size),
            "kernel_size": self.kernel_size,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="tf_lvae")
class ResidualBlock(ActivatedLayer):
    """Pre-activation residual block: x + conv(act(BN(conv(act(BN(x)))))), 3x3
    convolutions keeping the shape [rows, H, W, channels]. Without batch norm the
    convolutions have biases and the block is x + conv(act(conv(act(x))))."""

    def __init__(
        self,
        activation: str = "leaky_relu",
        batch_norm: bool = True,
        batch_norm_epsilon: float = 1e-3,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(
            activation,
            batch_norm,
            batch_norm_epsilon=batch_norm_epsilon,
            synchronized=synchronized,
            **kwargs,
        )
        self.norm = [
            batch_norm_layer(batch_norm_epsilon, synchronized, f"batch_norm_{i}")
            for i in range(2 if batch_norm else 0)
        ]
        self.conv: list[keras.layers.Conv2D] = []

    def build(self, input_shape):
        channels = input_shape[-1]
        self.conv = [
            keras.layers.Conv2D(
                channels, 3, padding="same", use_bias=not self.batch_norm, name=f"conv_{i}"
            )
            for i in range(2)
        ]
        for i in range(2):
            if self.batch_norm:
                self.norm[i].build(input_shape)
            self.conv[i].build(input_shape)
        self.built = True

    def call(self, inputs, training=False):
        h = inputs
        for i, conv in enumerate(self.conv):
            if self.batch_norm:
                h = self.norm[i](h, training=training)
            h = conv(self._activation(h))
        return inputs + h

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="tf_lvae")
class ConvBlock(ActivatedLayer):
    """The deterministic block of one connection: a 3x3 convolution to `channels` at
    `size` (strided from a larger input), `residual_blocks` residual blocks, then batch norm
    and the nonlinearity. [rows, h, w, c] -> [rows, H, W, channels]."""

    def __init__(
        self,
        channels: int,
        size: tuple[int, int],
        residual_blocks: int = 2,
        activation: str = "leaky_relu",
        batch_norm: bool = True,
        batch_norm_epsilon: float = 1e-3,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(
            activation,
            batch_norm,
            batch_norm_epsilon=batch_norm_epsilon,
            synchronized=synchronized,
            **kwargs,
        )
        self.channels = channels
        self.size = tuple(size)
        self.residual_blocks = residual_blocks
        self.project = ResamplingConv2D(channels, self.size, use_bias=True, name="project")
        self.blocks = [
            ResidualBlock(
                activation, batch_norm, batch_norm_epsilon, synchronized, name=f"residual_{i}"
            )
            for i in range(residual_blocks)
        ]
        self.norm = batch_norm_layer(batch_norm_epsilon, synchronized) if batch_norm else None

    def build(self, input_shape):
        self.project.build(input_shape)
        shape = self.project.compute_output_shape(input_shape)
        for block in self.blocks:
            block.build(shape)
        if self.norm is not None:
            self.norm.build(shape)
        self.built = True

    def call(self, inputs, training=False):
        h = self.project(inputs)
        for block in self.blocks:
            h = block(h, training=training)
        if self.norm is not None:
            h = self.norm(h, training=training)
        return self._activation(h)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, self.channels)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "size": list(self.size),
            "residual_blocks": self.residual_blocks,
        }


@keras.saving.register_keras_serializable(package="tf_lvae")
class ConvGaussianHead(NormalizedLayer):
    """The convolutional form of `layers.GaussianHead`: a 3x3 convolution (after
    upsampling, see `ResamplingConv2D`) gives the mean and the pre-softplus variance of
    `channels` Gaussians at every position of `size`, optionally batch-normalized (the
    latent layers). [rows, h, w, c] -> (mean, variance), each [rows, H, W, channels]; in
    float32 whatever the dtype policy, as GaussianHead."""

    def __init__(
        self,
        channels: int,
        size: tuple[int, int],
        min_variance: float = 1e-5,
        batch_norm: bool = False,
        batch_norm_epsilon: float = 1e-3,
        synchronized: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(batch_norm, batch_norm_epsilon, synchronized, **kwargs)
        self.channels = channels
        self.size = tuple(size)
        self.min_variance = min_variance
        self.project = ResamplingConv2D(
            2 * channels,
            self.size,
            use_bias=not batch_norm,
            name="project",
            dtype=self.dtype_policy,
        )
        self.norm = (
            batch_norm_layer(batch_norm_epsilon, synchronized, dtype=self.dtype_policy)
            if batch_norm
            else None
        )

    def build(self, input_shape):
        self.project.build(input_shape)
        if self.norm is not None:
            self.norm.build(self.project.compute_output_shape(input_shape))
        self.built = True

    def call(self, inputs, training=False):
        return gaussian_parameters(self.project(inputs), self.norm, self.min_variance, training)

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], *self.size, self.channels)
        return shape, shape

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "size": list(self.size),
            "min_variance": self.min_variance,
        }
