"""The two inference models q(z | x): bottom-up (eqs. 5-6) and the probabilistic ladder (13-21).

Both return one `LatentSample` per latent layer, bottom (z_1) to top, holding the
sample, its posterior and its prior given the sample above. Rows are
sample-major: with S samples of a batch of B examples, row s * B + b is sample s
of example b (see `tile_samples`).

Each computes in two steps, `call` being the one after the other: `upward`, the
bottom-up Gaussians that depend on x alone (once per example), and `draw`, the S samples
given them. The chunked IW bound runs `upward` once for all its chunks of samples.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.architecture import architecture_of
from tf_lvae.config import ModelConfig
from tf_lvae.config_layer import ModelConfigLayer
from tf_lvae.distributions import diagonal_normal, standard_normal_like
from tf_lvae.generative import GenerativeNetwork, build_connection
from tf_lvae.layers import precision_weighted_merge

tfd = tfp.distributions

# (mean, variance) of bottom-up Gaussians, bottom to top, each [B, *latent_shape(i)].
Gaussians = list[tuple[tf.Tensor, tf.Tensor]]


class LatentSample(NamedTuple):
    """One latent layer of a posterior sample; every field is [S * B, *latent_shape]."""

    z: tf.Tensor
    posterior: tfd.Normal  # q(z_i | x, z_{i+1}, ...)
    prior: tfd.Normal  # p(z_i | z_{i+1}), N(0, I) at the top


def tile_samples(t: tf.Tensor, num_samples: int) -> tf.Tensor:
    """[B, ...] -> [num_samples * B, ...], sample-major."""
    return tf.tile(t, [num_samples] + [1] * (len(t.shape) - 1))


def _draw(q: tfd.Normal, seed: tf.Tensor | None) -> tf.Tensor:
    """A reparameterized sample of q, or its mean when seed is None (deterministic)."""
    return q.mean() if seed is None else q.sample(seed=seed)


class _InferenceNetwork(ModelConfigLayer):
    """The bottom-up blocks shared by both kinds: up_mlps[i] -> up_heads[i] gives layer i.

    Each kind defines `upward(x, training) -> Gaussians`, the bottom-up Gaussians that
    depend on x [B, *data_shape] alone, and `draw(bottom_up, generative, num_samples, seed,
    training) -> list[LatentSample]`, the samples given them; `call` is the one after the
    other.
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(config, **kwargs)
        parts = architecture_of(config)
        self.up_mlps = [
            parts.connection_block(config, i, f"up_mlp_{i + 1}") for i in range(config.num_layers)
        ]
        self.up_heads = [
            parts.latent_head(config, i, f"up_head_{i + 1}") for i in range(config.num_layers)
        ]

    def build(self, input_shape=None):
        config = self.config
        below = range(config.num_layers - 1)
        inputs = (config.data_shape, *(config.latent_shape(i) for i in below))
        for shape, mlp, head in zip(inputs, self.up_mlps, self.up_heads, strict=True):
            build_connection(mlp, head, shape)
        self.built = True

    def up(self, layer: int, h: tf.Tensor, training: bool):
        """(mean, variance) of the bottom-up Gaussian of `layer` (0-based) from its input h."""
        return self.up_heads[layer](self.up_mlps[layer](h, training=training), training=training)

    def call(
        self,
        x: tf.Tensor,
        generative: GenerativeNetwork,
        num_samples: int = 1,
        seed: tf.Tensor | None = None,
        training: bool = False,
    ) -> list[LatentSample]:
        """x: [B, *data_shape]; seed: int32 [2], or None for posterior means instead of
        samples."""
        return self.draw(self.upward(x, training), generative, num_samples, seed, training)


def layer_seeds(seed: tf.Tensor | None, num_layers: int) -> list:
    """num_layers independent stateless seeds (int32 [2] each) from one; Nones for None."""
    if seed is None:
        return [None] * num_layers
    return tf.unstack(tf.random.experimental.stateless_split(seed, num_layers))


@keras.saving.register_keras_serializable(package="tf_lvae")
class BottomUpInference(_InferenceNetwork):
    """q(z_1 | x) q(z_2 | z_1) ... q(z_L | z_{L-1}): each sample feeds the next layer."""

    def upward(self, x: tf.Tensor, training: bool = False) -> Gaussians:
        """[q(z_1 | x)]: the first layer's alone; the others depend on the samples."""
        return [self.up(0, x, training)]

    def draw(
        self,
        bottom_up: Gaussians,
        generative: GenerativeNetwork,
        num_samples: int = 1,
        seed: tf.Tensor | None = None,
        training: bool = False,
    ) -> list[LatentSample]:
        """num_samples samples of every layer given `upward(x)`, each sample feeding the
        next layer's block; seed: int32 [2], or None for posterior means instead of samples."""
        seeds = layer_seeds(seed, self.config.num_layers)
        zs, posteriors = [], []
        for i in range(self.config.num_layers):
            if i == 0:
                mean, variance = (tile_samples(t, num_samples) for t in bottom_up[0])
            else:
                mean, variance = self.up(i, zs[-1], training)
            posteriors.append(diagonal_normal(mean, variance))
            zs.append(_draw(posteriors[-1], seeds[i]))
        priors = [
            diagonal_normal(*generative.prior(i, zs[i + 1], training)) for i in range(len(zs) - 1)
        ]
        priors.append(standard_normal_like(zs[-1]))
        return [LatentSample(*t) for t in zip(zs, posteriors, priors, strict=True)]


@keras.saving.register_keras_serializable(package="tf_lvae")
class LadderInference(_InferenceNetwork):
    """The probabilistic ladder: a deterministic upward pass, then a stochastic downward
    pass whose top-down Gaussian is merged with the bottom-up one by precision (eq. 21).

    The top-down Gaussian of layer i comes from separate MLPs t_i (config.top_down ==
    "separate") or is the generative p(z_i | z_{i+1}) itself ("shared").
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(config, **kwargs)
        top = config.num_layers - 1
        separate = config.top_down == "separate"
        parts = architecture_of(config)
        self.top_down_mlps = [
            parts.connection_block(config, i + 1, f"top_down_mlp_{i + 1}")
            for i in range(top if separate else 0)
        ]
        self.top_down_heads = [
            parts.latent_head(config, i, f"top_down_head_{i + 1}")
            for i in range(len(self.top_down_mlps))
        ]

    def build(self, input_shape=None):
        super().build(input_shape)
        for i, (mlp, head) in enumerate(zip(self.top_down_mlps, self.top_down_heads, strict=True)):
            build_connection(mlp, head, self.config.latent_shape(i + 1))

    def upward(self, x: tf.Tensor, training: bool = False) -> Gaussians:
        """The deterministic upward pass: every layer's bottom-up Gaussian."""
        bottom_up = []
        h = x
        for i in range(self.config.num_layers):
            mean, variance = self.up(i, h, training)
            bottom_up.append((mean, variance))
            h = mean  # the next block takes the bottom-up mean (eq. 14)
        return bottom_up

    def draw(
        self,
        bottom_up: Gaussians,
        generative: GenerativeNetwork,
        num_samples: int = 1,
        seed: tf.Tensor | None = None,
        training: bool = False,
    ) -> list[LatentSample]:
        """The stochastic downward pass, num_samples samples given `upward(x)`; seed: int32
        [2], or None for posterior means instead of samples."""
        num_layers = self.config.num_layers
        seeds = layer_seeds(seed, num_layers)
        tiled = [tuple(tile_samples(t, num_samples) for t in layer) for layer in bottom_up]
        samples: list[LatentSample] = []
        z_above = None
        for i in reversed(range(num_layers)):
            if z_above is None:
                posterior = diagonal_normal(*tiled[i])
                z = _draw(posterior, seeds[i])
                prior = standard_normal_like(z)
            else:
                prior_params = generative.prior(i, z_above, training)
                top_down = self._top_down(i, z_above, training) if self.top_down_mlps else None
                merged = precision_weighted_merge(*(top_down or prior_params), *tiled[i])
                posterior = diagonal_normal(*merged)
                z = _draw(posterior, seeds[i])
                prior = diagonal_normal(*prior_params)
            samples.append(LatentSample(z, posterior, prior))
            z_above = z
        return samples[::-1]

    def _top_down(self, layer: int, z_above: tf.Tensor, training: bool):
        h = self.top_down_mlps[layer](z_above, training=training)
        return self.top_down_heads[layer](h, training=training)
