"""The latent hierarchy: per-unit KL, active units, KL to N(0, I), posterior samples and
their PCA (Table 2, Figs. 5, 6a and 7). Numbers only; figures.py draws them."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae import bounds
from tf_lvae.data.pipeline import seeded_batches
from tf_lvae.distributions import standard_normal_like
from tf_lvae.evaluation.compiled import compiled
from tf_lvae.inference import LatentSample
from tf_lvae.model import HierarchicalVAE

tfd = tfp.distributions

ACTIVE_THRESHOLD = 0.01  # nats (docs/method.md §4)
UNIT_KL_SAMPLES = 10  # joint posterior samples per example of the per-unit KL estimate


class UnitKLs(NamedTuple):
    """Mean KLs of every unit (latent variable) over a set of examples, one array
    [*latent_shape] per layer, bottom to top, in nats: to the prior p(z_i | z_{i+1}) and to
    N(0, I)."""

    prior: list[np.ndarray]
    standard_normal: list[np.ndarray]


def kl_to_standard_normal(sample: LatentSample) -> tf.Tensor:
    """KL(q(z_i,k | .) || N(0, 1)) of every unit of one layer, [rows, units], closed form:
    (variance + mean² - 1 - log variance) / 2."""
    return tfd.kl_divergence(sample.posterior, standard_normal_like(sample.z))


def _unit_kl_sums(model: HierarchicalVAE, samples: int) -> Callable:
    """(batch, seed) -> per layer, the sums over the batch and `samples` joint posterior
    samples of every unit's KL to its prior and to N(0, I): two lists of [units]."""

    def batch_kl(batch, batch_seed):
        layers = model.infer(batch, num_samples=samples, seed=batch_seed)
        return (
            [tf.reduce_sum(bounds.per_unit_kl(s, "mc"), axis=0) for s in layers],
            [tf.reduce_sum(kl_to_standard_normal(s), axis=0) for s in layers],
        )

    return batch_kl


def mean_unit_kls(
    model: HierarchicalVAE,
    x: np.ndarray,
    batch_size: int = 500,
    seed: int = 0,
    samples: int = UNIT_KL_SAMPLES,
    first_batch: int = 0,
) -> UnitKLs:
    """Every unit's KL to its prior and to N(0, I), averaged over the examples x [M, ...]
    and `samples` joint posterior samples of each; batch norm in inference mode. x's
    batches draw as batches first_batch, first_batch + 1, ... of a larger set
    (`seeded_batches`).

    KL to the prior: log q(z_i,k | .) - log p(z_i,k | z_{i+1}) at the joint sample of all
    layers (docs/method.md §4), the authors' estimator. It is unbiased for both kinds and
    its per-layer sums are the ELBO's KL terms. (The closed form given one sample of the
    layer above is not, for the bottom-up VAE: there z_{i+1} is drawn from q(z_{i+1} | z_i)
    and depends on z_i.) KL to N(0, I): the closed form, exact because N(0, I) does not
    depend on the sample.
    """
    if len(x) == 0:
        raise ValueError("mean_unit_kls needs at least one example.")
    fn = compiled(model, ("unit_kl", samples), _unit_kl_sums(model, samples))
    totals = None
    for batch, batch_seed in seeded_batches(x, batch_size, seed, first_batch):
        sums = fn(batch, batch_seed)
        totals = sums if totals is None else tf.nest.map_structure(tf.add, totals, sums)
    prior, standard = ([t.numpy() / (len(x) * samples) for t in part] for part in totals)
    return UnitKLs(prior, standard)


def active_units(unit_kls: list[np.ndarray], threshold: float = ACTIVE_THRESHOLD) -> list[int]:
    """Units (latent variables, or channels given `channel_kls`) per layer whose mean KL
    exceeds threshold (0.01 nats in the paper)."""
    return [int(np.sum(kl > threshold)) for kl in unit_kls]


def channel_kls(kl: np.ndarray, leading: int = 0) -> np.ndarray:
    """[*lead, *latent_shape] -> [*lead, channels] (leading = len(lead)): the KL of every
    channel, summed over its positions (a convolutional layer [H, W, C]); the units of an
    MLP's layer [units] are its channels."""
    return kl.reshape(*kl.shape[:leading], -1, kl.shape[-1]).sum(axis=leading)


def heatmap_rows(unit_kls: list[np.ndarray]) -> tuple[list[np.ndarray], str]:
    """The rows of Fig. 5 from a per-unit KL record ([E, *latent_shape] per layer): every
    unit of an MLP's layers, every channel (`channel_kls`) of a convolutional model's; and
    what a row is."""
    spatial = any(kl.ndim > 2 for kl in unit_kls)
    return [channel_kls(kl, 1) for kl in unit_kls], "channel" if spatial else "unit"


def layer_totals(unit_kls: list[np.ndarray]) -> list[float]:
    """The KL of each layer: the sum of its units' KLs, [L]."""
    return [float(np.sum(kl)) for kl in unit_kls]


def posterior_samples(
    model: HierarchicalVAE, x: np.ndarray, batch_size: int = 500, seed: int = 0
) -> list[np.ndarray]:
    """One sample of q(z_i | .) per example and layer: [M, *latent_shape] per layer, bottom
    to top."""
    fn = compiled(
        model,
        "posterior_samples",
        lambda batch, batch_seed: [s.z for s in model.infer(batch, seed=batch_seed)],
    )
    parts = [fn(batch, batch_seed) for batch, batch_seed in seeded_batches(x, batch_size, seed)]
    return [np.concatenate([p[i].numpy() for p in parts]) for i in range(len(parts[0]))]


class Projection(NamedTuple):
    """A PCA: `points` [N, c] are the data's coordinates on `components` [c, d] (unit
    vectors, by decreasing variance) after centring on `mean` [d]; `explained` [c] is
    the fraction of the total variance along each component."""

    points: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained: np.ndarray


def pca(x: np.ndarray, num_components: int = 2) -> Projection:
    """Principal components of x [N, ...], flattened to [N, d]: min(num_components, d) of
    them (a convolutional layer's samples [N, H, W, C] have d = H W C).

    Each component's sign is fixed so that its largest-magnitude loading is positive.
    """
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    mean = x.mean(axis=0)
    _, singular, rows = np.linalg.svd(x - mean, full_matrices=False)
    count = min(num_components, x.shape[1])
    components = rows[:count]
    signs = np.sign(components[np.arange(count), np.argmax(np.abs(components), axis=1)])
    components = components * signs[:, None]
    variance = singular**2
    total = variance.sum()
    explained = variance[:count] / total if total > 0 else np.zeros(count)
    return Projection((x - mean) @ components.T, components, mean, explained)
