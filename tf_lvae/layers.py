"""Building blocks: the MLP block, the Gaussian head, and the precision-weighted merge.

Every stochastic layer of the paper's models is MLP -> GaussianHead (docs/method.md §1,
eqs. 7-9, 13-20; the convolutional ones are in conv_layers.py, both built by
architecture.py); the LVAE combines its bottom-up and top-down Gaussians with
`precision_weighted_merge` (eq. 21).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import keras
from keras import ops

LEAKY_RELU_SLOPE = 0.1


def activation_fn(name: str) -> Callable:
    """The nonlinearity called `name`; "leaky_relu" is max(x, 0.1 x) as in the paper."""
    if name == "leaky_relu":
        return functools.partial(ops.leaky_relu, negative_slope=LEAKY_RELU_SLOPE)
    return keras.activations.get(name)


def nested_layers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Every layer inside `layer`, at any depth, depth first in the order they were set,
    each once: found through the public attributes that hold a layer or a list of them, as
    every layer of this package keeps its sublayers."""
    found: dict[int, keras.layers.Layer] = {}

    def visit(parent: keras.layers.Layer) -> None:
        for name, value in vars(parent).items():
            children = value if isinstance(value, list | tuple) else [value]
            for child in children if not name.startswith("_") else ():
                if isinstance(child, keras.layers.Layer) and id(child) not in found:
                    found[id(child)] = child
                    visit(child)

    visit(layer)
    return list(found.values())


def batch_norm_layers(layer: keras.layers.Layer) -> list[keras.layers.BatchNormalization]:
    """Every BatchNormalization layer inside `layer` (`nested_layers`)."""
    return [
        child
        for child in nested_layers(layer)
        if isinstance(child, keras.layers.BatchNormalization)
    ]


def batch_norm_layer(
    epsilon: float, synchronized: bool, name: str = "batch_norm", dtype=None
) -> keras.layers.BatchNormalization:
    """Keras's batch norm with this epsilon; `synchronized`: the global batch's statistics
    under a tf.distribute strategy."""
    return keras.layers.BatchNormalization(
        epsilon=epsilon, synchronized=synchronized, name=name, dtype=dtype
    )


def gaussian_parameters(h, norm, min_variance: float, training: bool):
    """(mean, variance) from a projection h [..., 2 n]: batch norm `norm` (or None) on all
    of h, then the first n as means and softplus of the last n plus min_variance as
    variances (eqs. 8-9), each [..., n]."""
    if norm is not None:
        h = norm(h, training=training)
    mean, raw_variance = ops.split(h, 2, axis=-1)
    return mean, ops.softplus(raw_variance) + min_variance


def precision_weighted_merge(mean_a, variance_a, mean_b, variance_b):
    """Combine two diagonal Gaussians by their precisions (eq. 21).

    Returns (mean, variance) of the normalized product N(a) N(b):
    variance = 1 / (1/variance_a + 1/variance_b),
    mean = (mean_a/variance_a + mean_b/variance_b) * variance.
    All inputs share one shape; variances must be > 0.
    """
    precision_a = ops.reciprocal(variance_a)
    precision_b = ops.reciprocal(variance_b)
    variance = ops.reciprocal(precision_a + precision_b)
    mean = (mean_a * precision_a + mean_b * precision_b) * variance
    return mean, variance


class NormalizedLayer(keras.layers.Layer):
    """A layer with optional batch norm (`batch_norm_layer`): its options, kept for
    get_config. `synchronized`: under a tf.distribute strategy, batch norm with the global
    batch's statistics."""

    def __init__(
        self,
        batch_norm: bool,
        batch_norm_epsilon: float = 1e-3,
        synchronized: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.batch_norm = batch_norm
        self.batch_norm_epsilon = batch_norm_epsilon
        self.synchronized = synchronized

    def get_config(self):
        return {
            **super().get_config(),
            "batch_norm": self.batch_norm,
            "batch_norm_epsilon": self.batch_norm_epsilon,
            "synchronized": self.synchronized,
        }


class ActivatedLayer(NormalizedLayer):
    """A NormalizedLayer with a nonlinearity (`activation_fn`)."""

    def __init__(self, activation: str = "leaky_relu", batch_norm: bool = True, **kwargs):
        super().__init__(batch_norm, **kwargs)
        self.activation = activation
        self._activation = activation_fn(activation)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@keras.saving.register_keras_serializable(package="tf_lvae")
class MLPBlock(ActivatedLayer):
    """`num_layers` hidden layers, each Dense -> BatchNorm (optional) -> activation.

    Input [batch, features] -> output [batch, units]. With batch norm the Dense
    layers have no bias (batch norm's offset replaces it).
    """

    def __init__(
        self,
        units: int,
        activation: str = "leaky_relu",
        batch_norm: bool = True,
        num_layers: int = 2,
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
        self.units = units
        self.num_layers = num_layers
        self.dense = [
            keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense_{i}")
            for i in range(num_layers)
        ]
        self.norm = [
            batch_norm_layer(batch_norm_epsilon, synchronized, f"batch_norm_{i}")
            for i in range(num_layers if batch_norm else 0)
        ]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for i, dense in enumerate(self.dense):
            dense.build(shape)
            shape = (*shape[:-1], self.units)
            if self.batch_norm:
                self.norm[i].build(shape)
        self.built = True

    def call(self, inputs, training=False):
        h = inputs
        for i, dense in enumerate(self.dense):
            h = dense(h)
            if self.batch_norm:
                h = self.norm[i](h, training=training)
            h = self._activation(h)
        return h

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "num_layers": self.num_layers,
        }


@keras.saving.register_keras_serializable(package="tf_lvae")
class GaussianHead(NormalizedLayer):
    """Linear mean and softplus variance of a diagonal Gaussian (eqs. 8-9).

    Input [batch, features] -> (mean, variance), each [batch, units]; variance =
    softplus(linear) + min_variance, so it is > 0 and log densities stay finite.
    One Dense layer computes both halves. With `batch_norm` (the latent layers of the
    authors' code, docs/method.md §3) batch norm follows that Dense layer, before the
    softplus; since it normalizes each unit on its own, that is batch norm on the mean
    layer and on the variance layer. It computes in float32 whatever the global dtype
    policy (pass dtype= to change that), so mixed precision keeps the densities exact.
    `synchronized` as in MLPBlock.
    """

    def __init__(
        self,
        units: int,
        min_variance: float = 1e-5,
        batch_norm: bool = False,
        batch_norm_epsilon: float = 1e-3,
        synchronized: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(batch_norm, batch_norm_epsilon, synchronized, **kwargs)
        self.units = units
        self.min_variance = min_variance
        self.dense = keras.layers.Dense(
            2 * units, use_bias=not batch_norm, name="dense", dtype=self.dtype_policy
        )
        self.norm = (
            batch_norm_layer(batch_norm_epsilon, synchronized, dtype=self.dtype_policy)
            if batch_norm
            else None
        )

    def build(self, input_shape):
        self.dense.build(tuple(input_shape))
        if self.norm is not None:
            self.norm.build((*tuple(input_shape)[:-1], 2 * self.units))
        self.built = True

    def call(self, inputs, training=False):
        return gaussian_parameters(self.dense(inputs), self.norm, self.min_variance, training)

    def compute_output_shape(self, input_shape):
        shape = (*input_shape[:-1], self.units)
        return shape, shape

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "min_variance": self.min_variance,
        }
