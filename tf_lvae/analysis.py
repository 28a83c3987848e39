"""The latent hierarchy: per-unit KL and active units (Table 2, Fig. 5)."""

from __future__ import annotations

import weakref

import numpy as np
import tensorflow as tf

from tf_lvae import bounds
from tf_lvae.data import eval_dataset
from tf_lvae.model import HierarchicalVAE

ACTIVE_THRESHOLD = 0.01  # nats (SPEC §3)
_UNIT_KL_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mean_unit_kl(
    model: HierarchicalVAE, x: np.ndarray, batch_size: int = 500, seed: int = 0
) -> list[np.ndarray]:
    """KL(q(z_i,k | .) || p(z_i,k | .)) of every unit, averaged over the examples x:
    one array [units] per layer, bottom to top, in nats.

    Closed-form per unit given one posterior sample of the layer above, batch norm
    in inference mode.
    """

    batch_kl = _unit_kl_sums(model)
    totals = None
    base = tf.constant([seed, 0], tf.int32)
    for i, batch in enumerate(eval_dataset(x, batch_size=batch_size)):
        sums = batch_kl(batch, tf.random.experimental.stateless_fold_in(base, i))
        totals = sums if totals is None else [t + s for t, s in zip(totals, sums, strict=True)]
    return [t.numpy() / len(x) for t in totals]


def _unit_kl_sums(model: HierarchicalVAE):
    """The compiled per-batch sum of per-unit KLs of `model`, traced once per model."""
    if model not in _UNIT_KL_FNS:

        @tf.function
        def batch_kl(batch, batch_seed):
            samples = model.infer(batch, seed=batch_seed)
            return [tf.reduce_sum(bounds.per_unit_kl(s, "analytic"), axis=0) for s in samples]

        _UNIT_KL_FNS[model] = batch_kl
    return _UNIT_KL_FNS[model]


def active_units(unit_kls: list[np.ndarray], threshold: float = ACTIVE_THRESHOLD) -> list[int]:
    """Units per layer whose mean KL exceeds threshold (0.01 nats in the paper)."""
    return [int(np.sum(kl > threshold)) for kl in unit_kls]
