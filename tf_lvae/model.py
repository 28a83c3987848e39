"""`HierarchicalVAE`: the deep bottom-up VAE and the probabilistic Ladder VAE as one keras.Model.

The generative model is shared (generative.py); `config.kind` picks the inference
model (inference.py). `train_step` maximizes the β-scaled bound of bounds.py;
`test_step` reports the β = 1 ELBO. Inputs are batches of examples shaped
[B, *config.input_shape] with values in [0, 1].
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tf_lvae import bounds
from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES
from tf_lvae.examples import check_examples, checked, checked_dataset
from tf_lvae.generative import GenerativeNetwork
from tf_lvae.inference import (
    BottomUpInference,
    Gaussians,
    LadderInference,
    LatentSample,
    layer_seeds,
    tile_samples,
)
from tf_lvae.layers import batch_norm_layers
from tf_lvae.optimizer import ClippedAdam, several_replicas

SeedLike = int | tf.Tensor | None
# Optimizers that leave the weights as they are on gradients that are not finite.
SKIPPING_OPTIMIZERS = (ClippedAdam, keras.optimizers.LossScaleOptimizer)


def _features(data):
    """The inputs of a batch that may be x, (x,), (x, y) or (x, y, weights)."""
    return data[0] if isinstance(data, tuple | list) else data


@keras.saving.register_keras_serializable(package="tf_lvae")
class HierarchicalVAE(keras.Model):
    """A hierarchical VAE ("vae") or probabilistic Ladder VAE ("lvae") with L latent layers.

    Args:
      config: the model (sizes, kind, likelihood, ...), a ModelConfig or its dict.
      mc_samples, iw_samples: samples per example in the training objective (Table 1).
      free_bits, free_bits_group: free bits in the training objective (λ in nats per
        group; 0: off), as TrainingConfig's fields of those names.
      seed: seed of the model's own random stream (posterior samples in training).
      batch_norm_statistics: what the batch-norm layers' statistics are: None, the moving
        averages of training; or the record `recompute_batch_norm_statistics` leaves,
        {"recomputed_from": examples, "seed": seed} (and "chunk_rows" when computed in
        chunks). Saved with the model.

    Layers are 1-based in the public API, as in the paper (z1 is next to the data).
    Under a mixed-precision policy the MLPs compute in 16 bits while the Gaussian and
    likelihood heads, the samples and every log density stay in float32.
    The non-trainable variable `beta` scales the KL in `train_step`; set it with
    `beta.assign` or the `WarmUp` callback, which never retraces.
    """

    def __init__(
        self,
        config: ModelConfig | dict,
        mc_samples: int = 1,
        iw_samples: int = 1,
        seed: int | None = None,
        batch_norm_statistics: dict | None = None,
        free_bits: float = 0.0,
        free_bits_group: str = "layer",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.model_config = (
            config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
        )
        TrainingConfig(  # checks the objective's settings
            mc_samples=mc_samples,
            iw_samples=iw_samples,
            free_bits=free_bits,
            free_bits_group=free_bits_group,
        )
        self.mc_samples = mc_samples
        self.iw_samples = iw_samples
        self.free_bits = free_bits
        self.free_bits_group = free_bits_group
        self.seed = seed
        self.batch_norm_statistics = batch_norm_statistics
        self.generative = GenerativeNetwork(self.model_config, name="generative")
        inference = LadderInference if self.model_config.kind == "lvae" else BottomUpInference
        self.inference = inference(self.model_config, name="inference")
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.beta = keras.Variable(1.0, trainable=False, name="beta")
        names = ["loss", "elbo", "reconstruction", "kl"]
        names += [f"kl_z{i + 1}" for i in range(self.model_config.num_layers)]
        self._trackers = {name: keras.metrics.Mean(name=name) for name in [*names, "beta"]}
        self._trackers["skipped_steps"] = keras.metrics.Sum(name="skipped_steps")
        self.build()

    def build(self, input_shape=None):
        self.generative.build()
        self.inference.build()
        self.built = True

    @property
    def metrics(self):
        return list(self._trackers.values())

    def get_metrics_result(self):
        """The metrics' values: NaN for a mean over no finite step (an epoch whose every
        step was skipped has no ELBO). Read across replicas (Keras's `fit` does so for an
        epoch's logs) a Sum is summed over them: `skipped_steps`, which every replica counts
        for the same steps, is divided back by the replica count."""
        results = super().get_metrics_result()
        for name, tracker in self._trackers.items():  # no finite step: no value, not 0
            if isinstance(tracker, keras.metrics.Mean):
                results[name] = tf.where(tracker.count > 0, results[name], float("nan"))
        replicas = self.distribute_strategy.num_replicas_in_sync
        if replicas > 1 and several_replicas() is None:  # not inside one replica's step
            results["skipped_steps"] = results["skipped_steps"] / replicas
        return results

    # ------------------------------------------------------------------ inference

    def _seed(self, seed: SeedLike) -> tf.Tensor:
        """An int32 [2] stateless seed: the given one, or the next of the model's stream
        (then, under a strategy with several replicas, each replica's own)."""
        if seed is not None:
            return tf.cast([seed, 0] if isinstance(seed, int) else seed, tf.int32)
        seed = tf.cast(self.seed_generator.next(), tf.int32)
        replica = several_replicas()
        if replica is None:
            return seed
        return tf.random.experimental.stateless_fold_in(seed, replica.replica_id_in_sync_group)

    def _flatten(self, x) -> tf.Tensor:
        """Examples [B, *input_shape] as the model takes them: [B, *config.data_shape]."""
        return tf.reshape(tf.cast(x, tf.float32), [-1, *self.model_config.data_shape])

    def infer(
        self,
        x,
        num_samples: int = 1,
        seed: SeedLike = None,
        training: bool = False,
        deterministic: bool = False,
    ) -> list[LatentSample]:
        """Posterior samples of every latent layer, bottom to top, each field
        [S * B, *latent_shape].

        deterministic=True feeds each layer's posterior mean to the next stochastic
        layer instead of a sample (then every row of z is that mean).
        """
        seed = None if deterministic else self._seed(seed)
        return self.inference(
            self._flatten(checked(x, self.model_config)),
            generative=self.generative,
            num_samples=num_samples,
            seed=seed,
            training=training,
        )

    def _log_px_and_samples(
        self,
        x,
        num_samples: int,
        seed: SeedLike,
        training: bool,
        bottom_up: Gaussians | None = None,
    ):
        """(log p(x | z_1) [S * B], latent samples) for S posterior samples of each example.
        bottom_up: the inference's `upward(x)` when already computed, else computed here."""
        x_flat = self._flatten(x)
        if bottom_up is None:
            bottom_up = self.inference.upward(x_flat, training=training)
        samples = self.inference.draw(
            bottom_up, self.generative, num_samples, self._seed(seed), training=training
        )
        likelihood = self.generative.likelihood(samples[0].z, training=training)
        return likelihood.log_prob(tile_samples(x_flat, num_samples)), samples

    def log_weights(self, x, num_samples: int = 1, seed: SeedLike = None) -> tf.Tensor:
        """log p(x, z) - log q(z | x) for num_samples posterior samples: [num_samples, B]."""
        return self._log_weights(checked(x, self.model_config), num_samples, seed)

    def _log_weights(
        self, x, num_samples: int, seed: SeedLike, bottom_up: Gaussians | None = None
    ) -> tf.Tensor:
        """`log_weights`, given the inference's `upward(x)` when already computed."""
        log_px, samples = self._log_px_and_samples(x, num_samples, seed, False, bottom_up)
        return bounds.split_samples(log_px - tf.add_n(bounds.layer_kls(samples)), num_samples)

    def score(
        self,
        x,
        num_samples: int | tf.Tensor = PAPER_TEST_IW_SAMPLES,
        chunk_size: int = bounds.DEFAULT_IW_CHUNK_SIZE,
        seed: SeedLike = None,
    ) -> dict[str, tf.Tensor]:
        """Per-example log-likelihood by the IW bound with K = num_samples, and the ELBO.

        Returns {"log_likelihood": [B], "elbo": [B]} (the ELBO estimated from the same
        K samples). Samples are drawn chunk_size at a time: memory is bounded by
        chunk_size * B rows whatever K is; the inference's upward pass, which depends on x
        alone, runs once for all the chunks. K may be a scalar int tensor (see
        `bounds.chunked_iw_bound`).
        """
        x = checked(x, self.model_config)
        bottom_up = self.inference.upward(self._flatten(x))
        return dict(
            zip(
                ("log_likelihood", "elbo"),
                bounds.chunked_iw_bound(
                    lambda n, s: self._log_weights(x, n, s, bottom_up),
                    num_samples,
                    chunk_size,
                    self._seed(seed),
                ),
                strict=True,
            )
        )

    def encode(self, x) -> dict[str, tf.Tensor]:
        """Each layer's posterior mean and variance: {"z1_mean": [B, *latent_shape(0)],
        "z1_variance": ...}.

        Deterministic: the LVAE's top-down pass (and the VAE's bottom-up pass) is fed
        posterior means, not samples.
        """
        out = {}
        for i, sample in enumerate(self.infer(x, deterministic=True)):
            out[f"z{i + 1}_mean"] = sample.posterior.mean()
            out[f"z{i + 1}_variance"] = sample.posterior.variance()
        return out

    def reconstruct(self, x) -> tf.Tensor:
        """Mean of p(x | z_1) at the deterministic posterior (see `encode`): [B, *input_shape]
        (for the logistic mixture, the levels of its mean: `GenerativeNetwork.images`)."""
        z1 = self.infer(x, deterministic=True)[0].z
        return self._images(self.generative.images(z1))

    def sample(
        self,
        num_samples: int,
        from_layer: int | tf.Tensor | None = None,
        temperature: float | tf.Tensor = 1.0,
        seed: SeedLike = None,
    ) -> tf.Tensor:
        """Images generated from z* ~ N(0, temperature² I) injected at
        latent layer `from_layer` (1-based; default the top, i.e. the prior) and passed down
        through p(z_i | z_{i+1}) with each standard deviation scaled by temperature (Fig. 6b):
        the means of p(x | z_1) (the paper's figures), or for the logistic mixture a draw of
        8-bit levels k / 255 from it (`GenerativeNetwork.images`).

        Returns [num_samples, *input_shape]. `from_layer` may be a scalar tensor.
        """
        config = self.model_config
        top = config.num_layers
        start = top if from_layer is None else from_layer
        if isinstance(start, int) and not 1 <= start <= top:
            raise ValueError(f"from_layer must be in 1..{top}, got {start}.")
        seed = self._seed(seed)
        seeds = layer_seeds(seed, top)
        temperature = tf.cast(temperature, tf.float32)

        def noise(i):
            return tf.random.stateless_normal(
                [num_samples, *config.latent_shape(i)], seed=seeds[i], dtype=tf.float32
            )

        z = temperature * noise(top - 1)
        for i in reversed(range(top - 1)):
            mean, variance = self.generative.prior(i, z)
            eps = temperature * noise(i)
            z = tf.where(i + 1 >= start, eps, mean + tf.sqrt(variance) * eps)
        pixel_seed = tf.random.experimental.stateless_fold_in(seed, top)
        return self._images(self.generative.images(z, pixel_seed))

    def _images(self, flat: tf.Tensor) -> tf.Tensor:
        return tf.reshape(flat, [-1, *self.model_config.input_shape])

    # ------------------------------------------------------------------ training

    def _objective(self, x, mc_samples: int, iw_samples: int, beta, training: bool):
        """(loss, statistics): loss = -training_objective; statistics are batch means at β = 1."""
        log_px, samples = self._log_px_and_samples(x, mc_samples * iw_samples, None, training)
        estimator = self.model_config.kl_estimator if iw_samples == 1 else "mc"
        kls = bounds.layer_kls(samples, estimator)
        kl = tf.add_n(kls)
        if self.free_bits > 0 and training:
            loss = -bounds.free_bits_objective(
                log_px, samples, beta, self.free_bits, self.free_bits_group, estimator
            )
        else:
            loss = -bounds.training_objective(log_px, kl, beta, mc_samples, iw_samples)
        stats = {
            "elbo": tf.reduce_mean(log_px - kl),
            "reconstruction": tf.reduce_mean(log_px),
            "kl": tf.reduce_mean(kl),
        }
        stats.update({f"kl_z{i + 1}": tf.reduce_mean(k) for i, k in enumerate(kls)})
        return loss, stats

    def _record(self, loss, stats, beta, finite=True) -> None:
        """Adds a step's values to the epoch's means; a step that is not `finite` adds
        nothing but one to `skipped_steps`."""
        weight = tf.cast(finite, tf.float32)
        values = {"loss": loss, "beta": beta, **stats}
        for name, value in values.items():
            value = tf.cast(value, tf.float32)
            self._trackers[name].update_state(tf.where(finite, value, 0.0), sample_weight=weight)
        self._trackers["skipped_steps"].update_state(1.0 - weight)

    def fit(self, x=None, *args, **kwargs):
        """Keras's `fit`, x checked first (`tf_lvae.examples`): an array or tensor before
        training starts (ValueError), a tf.data.Dataset batch by batch in its pipeline
        (InvalidArgumentError); other inputs (generators, PyDatasets) as they come."""
        if isinstance(x, tf.data.Dataset):
            x = checked_dataset(x, self.model_config)
        elif isinstance(x, np.ndarray | tf.Tensor):
            check_examples(x, self.model_config)
        return super().fit(x, *args, **kwargs)

    def train_step(self, data):
        """One optimizer step on a batch [B, *input_shape], or k steps, one per batch, on a
        stack of k batches [k, B, *input_shape] inside this one compiled call (the
        trainer's fast path: no return to Python between the steps). Returns the metrics."""
        x = _features(data)
        if len(x.shape) == len(self.model_config.input_shape) + 2:

            def step(i):
                self._optimizer_step(x[i])
                return (i + 1,)

            tf.while_loop(lambda i: i < tf.shape(x)[0], step, (tf.constant(0),))
        else:
            self._optimizer_step(x)
        return self.get_metrics_result()

    def _optimizer_step(self, x) -> None:
        """Maximizes the β-scaled bound on one batch and records the metrics.

        A step whose loss or gradients are not finite is skipped and counted in
        `skipped_steps`: the batch-norm statistics it moved are put back, and the optimizer
        gets gradients that are NaN (`ClippedAdam` and Keras's LossScaleOptimizer then skip
        the update themselves) or, for any other optimizer, zeros.

        Under a tf.distribute strategy each replica runs this on its share of the global
        batch: its loss is divided by the number of replicas, so that the optimizer's sum
        of the replicas' gradients is the gradient of the global batch's mean; a step is
        skipped on every replica when one is not finite; and the replicas' batch-norm
        statistics are averaged after every step, so they stay one set.
        """
        replica = several_replicas()
        statistics = self._batch_norm_statistics()
        before = [tf.identity(v) for v in statistics]
        with tf.GradientTape() as tape:
            loss, stats = self._objective(
                x, self.mc_samples, self.iw_samples, self.beta, training=True
            )
            scaled_loss = self.optimizer.scale_loss(loss)
            if replica is not None:  # the one-device graph stays as it was
                scaled_loss = scaled_loss / replica.num_replicas_in_sync
        poison = tf.stop_gradient(loss - loss)  # 0, or NaN when the loss is not finite
        grads = [
            g + tf.cast(poison, g.dtype) for g in tape.gradient(scaled_loss, self.trainable_weights)
        ]
        finite = tf.math.is_finite(tf.linalg.global_norm(grads))
        if replica is not None:
            finite = replica.all_reduce("SUM", 1.0 - tf.cast(finite, tf.float32)) == 0.0
            statistics_now = replica.all_reduce("MEAN", [tf.identity(v) for v in statistics])
        else:
            statistics_now = statistics
        if not isinstance(self.optimizer, SKIPPING_OPTIMIZERS):
            grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        self.optimizer.apply(grads, self.trainable_weights)
        for variable, now, value in zip(statistics, statistics_now, before, strict=True):
            variable.assign(tf.where(finite, now, value))
        self._record(loss, stats, self.beta, finite)

    def _batch_norm_statistics(self) -> list:
        """The moving means and variances of every batch-norm layer."""
        return [
            variable
            for layer in batch_norm_layers(self)
            for variable in (layer.moving_mean, layer.moving_variance)
        ]

    def test_step(self, data):
        loss, stats = self._objective(_features(data), 1, 1, 1.0, training=False)
        self._record(loss, stats, 1.0)
        return self.get_metrics_result()

    def call(self, x, training=False):
        """Per-example ELBO terms with one posterior sample at β = 1:
        {"elbo": [B], "reconstruction": [B], "kl": [B, L]} (the KL of each layer)."""
        log_px, samples = self._log_px_and_samples(x, 1, None, training)
        kls = tf.stack(bounds.layer_kls(samples, self.model_config.kl_estimator), axis=-1)
        return {"elbo": log_px - tf.reduce_sum(kls, -1), "reconstruction": log_px, "kl": kls}

    # ------------------------------------------------------------------ config

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "config": self.model_config.to_dict(),
            "mc_samples": self.mc_samples,
            "iw_samples": self.iw_samples,
            "seed": self.seed,
            "batch_norm_statistics": self.batch_norm_statistics,
            "free_bits": self.free_bits,
            "free_bits_group": self.free_bits_group,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
