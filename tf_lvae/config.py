"""Configuration as data: the model, how it is trained, and the whole run.

`ModelConfig` describes a model completely (it is what `get_config` stores);
`TrainingConfig` describes how it is trained; `RunConfig` is a run's config.json. Each
checks its own values. The paper's settings for them are `tf_lvae.presets`; how a run is
evaluated is `tf_lvae.evaluation.settings`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from tf_lvae.architecture import ARCHITECTURES as _ARCHITECTURE_OBJECTS
from tf_lvae.architecture import architecture_of
from tf_lvae.constants import EIGHT_BIT_LEVELS, PAPER_HIDDEN_DIMS, PAPER_LATENT_DIMS

MODEL_KINDS = ("lvae", "vae")
ARCHITECTURES = tuple(_ARCHITECTURE_OBJECTS)
LIKELIHOODS = ("bernoulli", "gaussian", "logistic-mixture")
DISCRETE_LIKELIHOODS = ("logistic-mixture",)  # of the 8-bit levels themselves (bits/dim)
# The likelihoods that are probabilities of discrete pixels, and how many values a pixel
# takes under each: a log-likelihood is at most 0, and the uniform distribution on the
# values is the floor a trained model passes.
PIXEL_VALUES = {"bernoulli": 2, "logistic-mixture": EIGHT_BIT_LEVELS}
ACTIVATIONS = ("leaky_relu", "tanh", "relu", "elu", "softplus")
TOP_DOWN = ("separate", "shared")
KL_ESTIMATORS = ("mc", "analytic")
STRATEGIES = ("default", "mirrored", "multiworker")
FREE_BITS_GROUPS = ("layer", "channel")
# What an 8-bit grey value is divided by before it is binarized: 255 (values 0..1, the
# tfds and torchvision convention) or 256 (the authors' MNIST: the LISA lab's mnist.pkl.gz
# stores byte/256, so a pixel of 255 is 1 only 255 times in 256; docs/method.md §5).
PIXEL_SCALES = (255, 256)
AUTHORS_PIXEL_SCALE = 256
SPLITS = ("test", "train", "validation")  # the splits of a run's data that can be evaluated
# The batch-norm statistics of an evaluation: recomputed from one pass over the training set
# (the authors'), or the moving averages of training (docs/method.md §4).
BATCH_NORM_CHOICES = ("recomputed", "moving")
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32: the model computes in it
CLUSTER_TIMEOUT = 600  # s a worker waits at the start for every task of its cluster
# A local device as TensorFlow names it: GPU:0, /gpu:0, /device:GPU:0,
# /job:localhost/replica:0/task:0/device:GPU:0 (the type in any case).
_DEVICE_NAME = re.compile(
    r"^(?:/job:[^/]+/replica:\d+/task:\d+)?(?:/device:|/)?([a-z_]+):(\d+)$", re.IGNORECASE
)


def device_name(name: str) -> str | None:
    """The local device `name` as TYPE:INDEX ("/device:gpu:1" -> "GPU:1"); None when it does
    not name one device."""
    match = _DEVICE_NAME.match(name) if isinstance(name, str) else None
    return f"{match.group(1).upper()}:{int(match.group(2))}" if match else None


def require(ok: bool, message: str) -> None:
    """Raises ValueError(message) unless ok: the configs' checks."""
    if not ok:
        raise ValueError(message)


def _positive_ints(name: str, values: tuple[int, ...]) -> None:
    require(
        all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values),
        f"{name} must be positive integers, got {values!r}.",
    )


def one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """Raises ValueError unless value is one of allowed, naming the field."""
    require(value in allowed, f"{name} must be one of {allowed}, got {value!r}.")


@dataclass(frozen=True)
class ModelConfig:
    """A hierarchical VAE or Ladder VAE, bottom (z1, next to the data) to top.

    Attributes:
      input_shape: shape of one example, e.g. (28, 28), or (H, W, C) for colour images.
      architecture: "mlp" (the paper's: every connection a two-layer MLP, latent layers
        vectors) or "conv" (residual convolutional blocks, latent layers [H_i, W_i, C_i];
        docs/method.md §7). `data_shape` and `latent_shape(i)` give the tensors' shapes.
      kind: "lvae" (probabilistic ladder, eqs. 13-21) or "vae" (bottom-up, eqs. 5-6).
      latent_dims: units of z_1 ... z_L ("mlp"), or their channels ("conv").
      hidden_dims: width of the two-layer MLPs of each connection ("mlp"), or the channels
        of its residual blocks ("conv"): hidden_dims[0] between x and z_1, hidden_dims[i]
        between z_i and z_{i+1}; used in both the inference and the generative model.
      strides: "conv" only, one per latent layer: z_i's height and width are those of the
        layer below (x for z_1) divided by strides[i], rounded up. () for "mlp".
      residual_blocks: "conv" only: residual blocks in each connection's block.
      likelihood: "bernoulli" (logits), "gaussian" (linear mean, softplus variance), or
        "logistic-mixture": a discretized logistic mixture over the 256 levels of 8-bit
        images (`tf_lvae.logistic_mixture`; docs/method.md §8).
      mixture_components: K, the components of "logistic-mixture" (ignored otherwise).
      activation: nonlinearity of the MLPs; "leaky_relu" is max(x, 0.1 x) as the paper.
      batch_norm: batch normalization after every hidden Dense layer.
      latent_batch_norm: batch normalization also on the Dense layers that give every
        latent mean and (pre-softplus) variance, as the authors' code (docs/method.md §3); the
        layers giving the parameters of x never have it. None: the same as batch_norm.
      batch_norm_epsilon: the epsilon of every batch-norm layer (the authors' 1e-10;
        Keras's default is 1e-3).
      synchronized_batch_norm: under a tf.distribute strategy with several replicas, batch
        norm normalizes with the statistics of the global batch (Keras's
        `BatchNormalization(synchronized=True)`) instead of each replica's share of it;
        the same computation as one device. No effect on one device.
      top_down: LVAE only. "separate" inference MLPs t_i (ICML preprint), or "shared"
        with the generative model, mu_t = mu_p, var_t = var_p (NIPS paper).
      kl_estimator: "mc" (log q - log p on the samples, as the paper) or "analytic"
        (closed-form KL per layer given the sample above; used where iw_samples == 1).
        "analytic" is the ELBO's KL only for the LVAE, whose q(z_i | .) and p(z_i | z_{i+1})
        are conditioned on the same sample of the layer above; a "vae" refuses it.
      min_variance: floor added to every softplus variance (docs/method.md §5).
    """

    input_shape: tuple[int, ...] = (28, 28)
    kind: str = "lvae"
    latent_dims: tuple[int, ...] = PAPER_LATENT_DIMS
    hidden_dims: tuple[int, ...] = PAPER_HIDDEN_DIMS
    architecture: str = "mlp"
    strides: tuple[int, ...] = ()
    residual_blocks: int = 2
    likelihood: str = "bernoulli"
    mixture_components: int = 10
    activation: str = "leaky_relu"
    batch_norm: bool = True
    latent_batch_norm: bool | None = None
    batch_norm_epsilon: float = 1e-10
    synchronized_batch_norm: bool = False
    top_down: str = "separate"
    kl_estimator: str = "mc"
    min_variance: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("input_shape", "latent_dims", "hidden_dims", "strides"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        require(len(self.input_shape) >= 1, "input_shape must have at least one dimension.")
        _positive_ints("input_shape", self.input_shape)
        require(len(self.latent_dims) >= 1, "latent_dims needs at least one latent layer.")
        _positive_ints("latent_dims", self.latent_dims)
        _positive_ints("hidden_dims", self.hidden_dims)
        require(
            len(self.hidden_dims) == len(self.latent_dims),
            f"hidden_dims needs one width per latent layer: got {len(self.hidden_dims)} "
            f"widths {self.hidden_dims} for {len(self.latent_dims)} latent layers "
            f"{self.latent_dims}.",
        )
        one_of("kind", self.kind, MODEL_KINDS)
        one_of("architecture", self.architecture, ARCHITECTURES)
        architecture_of(self).check(self)
        one_of("likelihood", self.likelihood, LIKELIHOODS)
        require(
            isinstance(self.mixture_components, int)
            and not isinstance(self.mixture_components, bool)
            and self.mixture_components >= 1,
            f"mixture_components must be a positive integer, got {self.mixture_components!r}.",
        )
        one_of("activation", self.activation, ACTIVATIONS)
        one_of("top_down", self.top_down, TOP_DOWN)
        one_of("kl_estimator", self.kl_estimator, KL_ESTIMATORS)
        require(
            isinstance(self.batch_norm, bool), f"batch_norm must be a bool: {self.batch_norm!r}"
        )
        require(
            self.latent_batch_norm is None or isinstance(self.latent_batch_norm, bool),
            f"latent_batch_norm must be a bool or None: {self.latent_batch_norm!r}",
        )
        require(
            self.batch_norm or self.latent_batch_norm is not True,
            "latent_batch_norm=True needs batch_norm=True (batch norm on the latent layers "
            "only is not one of the paper's models).",
        )
        require(
            isinstance(self.synchronized_batch_norm, bool),
            f"synchronized_batch_norm must be a bool: {self.synchronized_batch_norm!r}",
        )
        require(
            0.0 < self.batch_norm_epsilon < 1.0 and math.isfinite(self.batch_norm_epsilon),
            f"batch_norm_epsilon must be in (0, 1), got {self.batch_norm_epsilon!r}.",
        )
        require(
            not (self.kind == "vae" and self.kl_estimator == "analytic"),
            'kl_estimator="analytic" is not the ELBO\'s KL for kind="vae": there z_{i+1} is '
            "drawn from q(z_{i+1} | z_i), so the closed form given that sample is not "
            'E_q[log q(z_i | .) - log p(z_i | z_{i+1})]. Use kl_estimator="mc".',
        )
        require(
            0.0 < self.min_variance < 1.0 and math.isfinite(self.min_variance),
            f"min_variance must be in (0, 1), got {self.min_variance!r}.",
        )

    @property
    def data_shape(self) -> tuple[int, ...]:
        """The shape the model gives one example: (data_dim,) for "mlp" (flattened);
        (height, width, channels) for "conv" (`architecture.Architecture.data_shape`)."""
        return architecture_of(self).data_shape(self)

    def latent_shape(self, layer: int) -> tuple[int, ...]:
        """The shape of one example's latent layer `layer` (0-based: z_{layer+1}):
        (units,) for "mlp", (height, width, channels) for "conv"."""
        return architecture_of(self).latent_shape(self, layer)

    @property
    def channels(self) -> int:
        """Channels of an image: input_shape[2] for (height, width, channels), else 1."""
        return self.input_shape[2] if len(self.input_shape) == 3 else 1

    @property
    def batch_norm_on_latents(self) -> bool:
        """Whether the latent heads have batch norm (`latent_batch_norm`, None: `batch_norm`)."""
        return self.batch_norm if self.latent_batch_norm is None else self.latent_batch_norm

    @property
    def num_layers(self) -> int:
        return len(self.latent_dims)

    @property
    def data_dim(self) -> int:
        return math.prod(self.input_shape)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in _fields(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """The config of a `to_dict` dict. Fields a dict lacks because it was written
        before they existed take the value that reproduces the model it was trained as
        (see `LEGACY_MODEL_FIELDS`)."""
        return cls(**_known_fields(cls, {**LEGACY_MODEL_FIELDS, **values}))


# Fields added in tf_lvae 0.2, with the behaviour of 0.1 for configs written without them:
# no batch norm on the latent heads, Keras's batch-norm epsilon, no per-element clipping.
LEGACY_MODEL_FIELDS = {"latent_batch_norm": False, "batch_norm_epsilon": 1e-3}
LEGACY_TRAINING_FIELDS = {"clipvalue": 0.0}


@dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained (docs/method.md §6). Epoch counts are totals, not increments.

    Attributes:
      epochs: total number of epochs.
      batch_size: examples per step.
      learning_rate: Adam's initial learning rate.
      warmup_epochs: β rises linearly from 0 to 1 over this many epochs (0: β = 1).
      mc_samples, iw_samples: samples per example in the objective; the loss is
        the mean over mc_samples of the importance-weighted bound over iw_samples.
      free_bits: λ of free bits (Kingma et al. 2016; docs/method.md §7), in nats per group
        of latent variables: the KL term of each group is max(λ, its batch-mean KL),
        scaled by the warm-up's β; 0: off. Needs iw_samples == 1 (the IW bound has no KL
        terms). The reported ELBO and IW bound are the true ones.
      free_bits_group: the groups: "layer" (each latent layer) or "channel" (each channel
        of each layer; an MLP's units).
      adam_epsilon: Adam's epsilon (1e-4 in the authors' code).
      clipnorm: clip gradients to this global norm (4 in the authors' code; 0 = off).
      clipvalue: then clip each gradient element to ±clipvalue (0.9 in the authors' code;
        0 = off).
      lr_decay_rate, lr_decay_epochs, lr_decay_start: from epoch lr_decay_start on,
        multiply the learning rate by lr_decay_rate every lr_decay_epochs epochs
        (lr_decay_rate = 1.0: constant).
      seed: seed of the model's sampling and of the data order and binarization.
      max_consecutive_skips: stop the run when this many optimizer steps in a row were
        skipped because their loss or gradients were not finite.
      jit_compile, steps_per_execution: speed only (XLA, and the optimizer steps run in
        one compiled call, adjusted to the nearest divisor of the steps per epoch); they
        do not change what is computed.
      strategy: "default" (one device), "mirrored" (tf.distribute.MirroredStrategy: the
        local devices) or "multiworker" (MultiWorkerMirroredStrategy: the cluster of the
        TF_CONFIG environment variable); every replica takes batch_size / replicas
        examples of each batch, the global one.
      devices: the mirrored strategy's devices, e.g. ("GPU:0", "GPU:1"), each once; empty:
        every local GPU, else the CPU. CPU:0, CPU:1, ... split the CPU into as many logical
        devices as are named. The strategy refuses a device TensorFlow does not see.
    """

    epochs: int = 2000
    batch_size: int = 256
    learning_rate: float = 1e-3
    warmup_epochs: int = 200
    mc_samples: int = 1
    iw_samples: int = 1
    free_bits: float = 0.0
    free_bits_group: str = "layer"
    adam_epsilon: float = 1e-4
    clipnorm: float = 4.0
    clipvalue: float = 0.9
    lr_decay_rate: float = 1.0
    lr_decay_epochs: int = 200
    lr_decay_start: int = 0
    seed: int = 0
    max_consecutive_skips: int = 100
    jit_compile: bool = True
    steps_per_execution: int = 32
    strategy: str = "default"
    devices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("epochs", "warmup_epochs", "lr_decay_start", "seed"):
            value = getattr(self, name)
            require(
                isinstance(value, int) and value >= 0,
                f"{name} must be a non-negative integer, got {value!r}.",
            )
        require(self.seed < 2**31, f"seed must be below 2**31, got {self.seed}.")
        for name in (
            "batch_size",
            "mc_samples",
            "iw_samples",
            "lr_decay_epochs",
            "steps_per_execution",
            "max_consecutive_skips",
        ):
            value = getattr(self, name)
            require(
                isinstance(value, int) and value >= 1,
                f"{name} must be a positive integer, got {value!r}.",
            )
        for name in ("learning_rate", "adam_epsilon"):
            value = getattr(self, name)
            require(value > 0 and math.isfinite(value), f"{name} must be > 0, got {value!r}.")
        for name in ("clipnorm", "clipvalue"):
            value = getattr(self, name)
            require(value >= 0 and math.isfinite(value), f"{name} must be >= 0, got {value!r}.")
        require(
            0 < self.lr_decay_rate <= 1,
            f"lr_decay_rate must be in (0, 1], got {self.lr_decay_rate!r}.",
        )
        one_of("strategy", self.strategy, STRATEGIES)
        require(
            isinstance(self.free_bits, int | float) and 0 <= self.free_bits <= FLOAT32_MAX,
            f"free_bits must be a number of nats >= 0 that float32 holds, got {self.free_bits!r}.",
        )
        one_of("free_bits_group", self.free_bits_group, FREE_BITS_GROUPS)
        require(
            not (self.free_bits > 0 and self.iw_samples > 1),
            f"free bits apply to the ELBO's KL terms, which the importance-weighted bound "
            f"(iw_samples={self.iw_samples}) does not have: use iw_samples=1 with free_bits, "
            "or free_bits=0.",
        )
        object.__setattr__(self, "devices", tuple(self.devices))
        names = [device_name(d) for d in self.devices]
        require(
            None not in names,
            f"devices must be device names like GPU:0 or CPU:1, got {self.devices!r}.",
        )
        require(
            len(set(names)) == len(names),
            f"devices {', '.join(self.devices)} name a device more than once; name each once.",
        )
        require(
            not self.devices or self.strategy == "mirrored",
            f"devices {self.devices} need strategy='mirrored' (got {self.strategy!r}).",
        )

    def replace(self, **changes: Any) -> TrainingConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        """The config of a `to_dict` dict (see `ModelConfig.from_dict` for older dicts)."""
        return cls(**_known_fields(cls, {**LEGACY_TRAINING_FIELDS, **values}))


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _known_fields(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    require(not unknown, f"unknown {cls.__name__} fields {unknown}; known: {sorted(names)}.")
    return dict(values)
