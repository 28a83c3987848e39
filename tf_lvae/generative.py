"""The generative model p(x, z) = p(x | z_1) p(z_1 | z_2) ... p(z_L), shared by both kinds."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.config import ModelConfig
from tf_lvae.distributions import bernoulli_likelihood, gaussian_likelihood
from tf_lvae.layers import GaussianHead, MLPBlock, ModelConfigLayer


def latent_mlp(config: ModelConfig, layer: int, name: str) -> MLPBlock:
    """The MLP of the connection below latent layer `layer` (0-based: 0 joins x and z_1)."""
    return MLPBlock(
        config.hidden_dims[layer],
        activation=config.activation,
        batch_norm=config.batch_norm,
        batch_norm_epsilon=config.batch_norm_epsilon,
        synchronized=config.synchronized_batch_norm,
        name=name,
    )


def latent_head(config: ModelConfig, layer: int, name: str) -> GaussianHead:
    """The Gaussian head giving the mean and variance of latent layer `layer` (0-based),
    with batch norm when config.batch_norm_on_latents."""
    return GaussianHead(
        config.latent_dims[layer],
        config.min_variance,
        batch_norm=config.batch_norm_on_latents,
        batch_norm_epsilon=config.batch_norm_epsilon,
        synchronized=config.synchronized_batch_norm,
        name=name,
    )


@keras.saving.register_keras_serializable(package="tf_lvae")
class GenerativeNetwork(ModelConfigLayer):
    """p(z_l | z_{l+1}) = N(mu_p, var_p) (eq. 3) and p(x | z_1) (eqs. 1-2).

    Layers are 0-based here: layer l holds z_{l+1} of the paper. The top prior
    p(z_L) = N(0, I) has no parameters.
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(config, **kwargs)
        top = config.num_layers - 1
        self.prior_mlps = [latent_mlp(config, i + 1, f"prior_mlp_{i + 1}") for i in range(top)]
        self.prior_heads = [latent_head(config, i, f"prior_head_{i + 1}") for i in range(top)]
        self.decoder_mlp = latent_mlp(config, 0, "decoder_mlp")
        if config.likelihood == "bernoulli":
            self.decoder_head = keras.layers.Dense(
                config.data_dim, name="decoder_logits", dtype="float32"
            )
        else:  # the output layers of x have no batch norm
            self.decoder_head = GaussianHead(
                config.data_dim, config.min_variance, name="decoder_head"
            )

    def build(self, input_shape=None):
        dims = self.config.latent_dims
        for i, (mlp, head) in enumerate(zip(self.prior_mlps, self.prior_heads, strict=True)):
            mlp.build((None, dims[i + 1]))
            head.build((None, mlp.units))
        self.decoder_mlp.build((None, dims[0]))
        self.decoder_head.build((None, self.decoder_mlp.units))
        self.built = True

    def prior(self, layer: int, z_above: tf.Tensor, training: bool = False):
        """(mean, variance) of p(z_layer | z_above), each [rows, latent_dims[layer]].

        `layer` is 0-based and < num_layers - 1; z_above is [rows, latent_dims[layer + 1]].
        """
        h = self.prior_mlps[layer](z_above, training=training)
        return self.prior_heads[layer](h, training=training)

    def likelihood(self, z1: tf.Tensor, training: bool = False) -> tfp.distributions.Distribution:
        """p(x | z_1): batch [rows], event [data_dim] (the flattened input)."""
        h = self.decoder_mlp(z1, training=training)
        if self.config.likelihood == "bernoulli":
            return bernoulli_likelihood(self.decoder_head(h))
        return gaussian_likelihood(*self.decoder_head(h))

    def call(self, z1, training=False):
        return self.likelihood(z1, training=training).mean()
