"""The generative model p(x, z) = p(x | z_1) p(z_1 | z_2) ... p(z_L), shared by both kinds."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.architecture import architecture_of
from tf_lvae.config import ModelConfig
from tf_lvae.config_layer import ModelConfigLayer
from tf_lvae.distributions import bernoulli_likelihood, gaussian_likelihood
from tf_lvae.logistic_mixture import DiscretizedLogisticMixture


def build_connection(block, head, input_shape: tuple[int, ...]) -> None:
    """Builds a connection's block for inputs [rows, *input_shape] and its head for the
    block's output."""
    block.build((None, *input_shape))
    head.build(block.compute_output_shape((None, *input_shape)))


@keras.saving.register_keras_serializable(package="tf_lvae")
class GenerativeNetwork(ModelConfigLayer):
    """p(z_l | z_{l+1}) = N(mu_p, var_p) (eq. 3) and p(x | z_1) (eqs. 1-2).

    Layers are 0-based here: layer l holds z_{l+1} of the paper. The top prior
    p(z_L) = N(0, I) has no parameters. Each connection's block and head come from the
    config's `architecture.Architecture` (the attributes keep the names of the paper's MLP
    model, which its checkpoints and saved models use).
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(config, **kwargs)
        top = config.num_layers - 1
        parts = architecture_of(config)
        self.prior_mlps = [
            parts.connection_block(config, i + 1, f"prior_mlp_{i + 1}") for i in range(top)
        ]
        self.prior_heads = [parts.latent_head(config, i, f"prior_head_{i + 1}") for i in range(top)]
        self.decoder_mlp = parts.connection_block(config, 0, "decoder_mlp")
        self.decoder_head = parts.data_head(config)

    def build(self, input_shape=None):
        config = self.config
        for i, (mlp, head) in enumerate(zip(self.prior_mlps, self.prior_heads, strict=True)):
            build_connection(mlp, head, config.latent_shape(i + 1))
        build_connection(self.decoder_mlp, self.decoder_head, config.latent_shape(0))
        self.built = True

    def prior(self, layer: int, z_above: tf.Tensor, training: bool = False):
        """(mean, variance) of p(z_layer | z_above), each [rows, *latent_shape(layer)].

        `layer` is 0-based and < num_layers - 1; z_above is [rows, *latent_shape(layer + 1)].
        """
        h = self.prior_mlps[layer](z_above, training=training)
        return self.prior_heads[layer](h, training=training)

    def likelihood(
        self, z1: tf.Tensor, training: bool = False
    ) -> tfp.distributions.Distribution | DiscretizedLogisticMixture:
        """p(x | z_1): log_prob(x) [rows] of x [rows, *config.data_shape] (the flattened
        input for an MLP, [H, W, C] for a convolutional model), and mean() of that shape."""
        config = self.config
        h = self.decoder_mlp(z1, training=training)
        event_ndims = len(config.data_shape)
        if config.likelihood == "bernoulli":
            return bernoulli_likelihood(self.decoder_head(h), event_ndims)
        if config.likelihood == "logistic-mixture":
            return DiscretizedLogisticMixture(
                self.decoder_head(h), config.mixture_components, config.data_shape, config.channels
            )
        return gaussian_likelihood(*self.decoder_head(h), event_ndims)

    def images(self, z1: tf.Tensor, seed: tf.Tensor | None = None) -> tf.Tensor:
        """The images p(x | z_1) shows, [rows, *config.data_shape]: its mean for the
        Bernoulli and Gaussian likelihoods (the paper's figures); for the logistic mixture,
        8-bit levels k / 255, drawn with the stateless `seed`, or without one the levels of
        its mean (`DiscretizedLogisticMixture.mean`)."""
        likelihood = self.likelihood(z1)
        if isinstance(likelihood, DiscretizedLogisticMixture) and seed is not None:
            return likelihood.sample(seed)
        return likelihood.mean()

    def call(self, z1, training=False):
        return self.likelihood(z1, training=training).mean()
