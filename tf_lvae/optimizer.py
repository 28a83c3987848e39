"""The optimizer of the paper's runs: Adam with the authors' two-stage gradient clipping."""

from __future__ import annotations

import keras
import tensorflow as tf

from tf_lvae.config import TrainingConfig


def several_replicas() -> tf.distribute.ReplicaContext | None:
    """The replica context when the caller runs on one of several replicas (inside a
    tf.distribute strategy's `run`); None on one device or in cross-replica context."""
    replica = tf.distribute.get_replica_context()
    return replica if replica is not None and replica.num_replicas_in_sync > 1 else None


@keras.saving.register_keras_serializable(package="tf_lvae")
class ClippedAdam(keras.optimizers.Adam):
    """Adam whose gradients are first clipped to a global norm, then each element to
    ±clip_value, in that order, as the authors' code does (docs/method.md §5). Keras's own
    `global_clipnorm` and `clipvalue` cannot be combined.

    Under a tf.distribute strategy the replicas' gradients are summed first, so the
    clipping and the check below see the gradient of the global batch, as on one device.

    A step whose gradients are not finite does not move the weights: its gradients become
    zeros and its learning rate 0 (Adam's moment estimates decay as for a zero gradient).
    Both happen in the same element-wise pass as the clipping, which a tf.cond around the
    update would not (docs/results/performance.md compares the two).

    Args:
      clip_norm: the global norm (None or 0: no norm clipping).
      clip_value: the bound of every element after the norm clipping (None or 0: none).
      **kwargs: Adam's arguments.
    """

    def __init__(self, clip_norm: float | None = None, clip_value: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.clip_norm = clip_norm or None
        self.clip_value = clip_value or None

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        replica = several_replicas()
        if replica is not None:
            grads = replica.all_reduce("SUM", grads)  # clip the global batch's gradient
        norm = tf.linalg.global_norm(grads)
        finite = tf.math.is_finite(norm)
        if self.clip_norm:
            grads, _ = tf.clip_by_global_norm(grads, self.clip_norm, use_norm=norm)
        if self.clip_value:
            grads = [tf.clip_by_value(g, -self.clip_value, self.clip_value) for g in grads]
        grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        if not isinstance(self._learning_rate, keras.Variable):  # a schedule: no skipping
            return super().apply(grads, trainable_variables)
        rate = tf.identity(self._learning_rate)
        self._learning_rate.assign(tf.where(finite, rate, tf.zeros_like(rate)))
        super().apply(grads, trainable_variables)
        self._learning_rate.assign(rate)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        """Keras sums the replicas' gradients here; `apply` has done it before clipping."""
        return grads_and_vars

    def get_config(self):
        return {**super().get_config(), "clip_norm": self.clip_norm, "clip_value": self.clip_value}


def make_optimizer(config: TrainingConfig) -> ClippedAdam:
    """Adam with the run's learning rate and epsilon, gradients clipped to a global norm of
    config.clipnorm and then element-wise to ±config.clipvalue."""
    return ClippedAdam(
        learning_rate=config.learning_rate,
        epsilon=config.adam_epsilon,
        clip_norm=config.clipnorm,
        clip_value=config.clipvalue,
    )
