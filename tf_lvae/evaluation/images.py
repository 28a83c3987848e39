"""The images of a model that the figures show: samples from the prior, reconstructions of
given examples, and samples with z* ~ N(0, I) injected at each latent layer (Fig. 6b).

Every sample is drawn from a fixed stateless seed: the model's own random stream (its
training noise) is never used, so drawing them changes nothing a run computes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tf_lvae.evaluation.compiled import compiled
from tf_lvae.model import HierarchicalVAE

# What the figures and the TensorBoard images show: prior samples, test examples
# reconstructed, samples per layer, images per row.
PRIOR_SAMPLES, RECONSTRUCTED, PER_LAYER, COLUMNS = 100, 30, 10, 10


class ModelImages(NamedTuple):
    """prior [samples, *image]; reconstructions [N, *image] of the examples given, in
    their order; layers[i] [per_layer, *image]: z* injected at layer i + 1 (1: z1)."""

    prior: np.ndarray
    reconstructions: np.ndarray
    layers: list[np.ndarray]


def model_images(
    model: HierarchicalVAE, x: np.ndarray, samples: int, per_layer: int, seed: int
) -> ModelImages:
    """The images of `model` (batch norm in inference mode) for the examples x [N, *image],
    `samples` from the prior and `per_layer` per latent layer, from the stateless `seed`;
    one compiled call, traced once per model, shape of x and counts."""
    layers = model.model_config.num_layers

    def draw(x):
        return (
            model.sample(samples, seed=seed),
            model.reconstruct(x),
            [model.sample(per_layer, from_layer=i, seed=seed) for i in range(1, layers + 1)],
        )

    fn = compiled(model, ("model_images", x.shape, samples, per_layer, seed), draw)
    prior, reconstructions, injected = fn(np.asarray(x, np.float32))
    return ModelImages(prior.numpy(), reconstructions.numpy(), [s.numpy() for s in injected])
