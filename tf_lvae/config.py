"""Configuration as data: the model, the training run, and the paper's presets.

`ModelConfig` describes a model completely (it is what `get_config` stores);
`TrainingConfig` describes how it is trained. `preset` returns both for the
paper's settings (SPEC §3) on mnist, omniglot and norb with 1 to 5 latent layers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

MODEL_KINDS = ("lvae", "vae")
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = ("leaky_relu", "tanh", "relu", "elu", "softplus")
TOP_DOWN = ("separate", "shared")
KL_ESTIMATORS = ("mc", "analytic")

PAPER_LATENT_DIMS = (64, 32, 16, 8, 4)
PAPER_HIDDEN_DIMS = (512, 256, 128, 64, 32)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _positive_ints(name: str, values: tuple[int, ...]) -> None:
    _require(
        all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values),
        f"{name} must be positive integers, got {values!r}.",
    )


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    _require(value in allowed, f"{name} must be one of {allowed}, got {value!r}.")


@dataclass(frozen=True)
class ModelConfig:
    """A hierarchical VAE or Ladder VAE, bottom (z1, next to the data) to top.

    Attributes:
      input_shape: shape of one example, e.g. (28, 28); flattened inside the model.
      kind: "lvae" (probabilistic ladder, eqs. 13-21) or "vae" (bottom-up, eqs. 5-6).
      latent_dims: units of z_1 ... z_L.
      hidden_dims: width of the two-layer MLPs of each connection: hidden_dims[0]
        between x and z_1, hidden_dims[i] between z_i and z_{i+1}; used in both the
        inference and the generative model.
      likelihood: "bernoulli" (logits) or "gaussian" (linear mean, softplus variance).
      activation: nonlinearity of the MLPs; "leaky_relu" is max(x, 0.1 x) as the paper.
      batch_norm: batch normalization after every hidden Dense layer.
      top_down: LVAE only. "separate" inference MLPs t_i (ICML preprint), or "shared"
        with the generative model, mu_t = mu_p, var_t = var_p (NIPS paper).
      kl_estimator: "mc" (log q - log p on the samples, as the paper) or "analytic"
        (closed-form KL per layer given the sample above; used where iw_samples == 1).
      min_variance: floor added to every softplus variance.
    """

    input_shape: tuple[int, ...] = (28, 28)
    kind: str = "lvae"
    latent_dims: tuple[int, ...] = PAPER_LATENT_DIMS
    hidden_dims: tuple[int, ...] = PAPER_HIDDEN_DIMS
    likelihood: str = "bernoulli"
    activation: str = "leaky_relu"
    batch_norm: bool = True
    top_down: str = "separate"
    kl_estimator: str = "mc"
    min_variance: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("input_shape", "latent_dims", "hidden_dims"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _require(len(self.input_shape) >= 1, "input_shape must have at least one dimension.")
        _positive_ints("input_shape", self.input_shape)
        _require(len(self.latent_dims) >= 1, "latent_dims needs at least one latent layer.")
        _positive_ints("latent_dims", self.latent_dims)
        _positive_ints("hidden_dims", self.hidden_dims)
        _require(
            len(self.hidden_dims) == len(self.latent_dims),
            f"hidden_dims needs one width per latent layer: got {len(self.hidden_dims)} "
            f"widths {self.hidden_dims} for {len(self.latent_dims)} latent layers "
            f"{self.latent_dims}.",
        )
        _one_of("kind", self.kind, MODEL_KINDS)
        _one_of("likelihood", self.likelihood, LIKELIHOODS)
        _one_of("activation", self.activation, ACTIVATIONS)
        _one_of("top_down", self.top_down, TOP_DOWN)
        _one_of("kl_estimator", self.kl_estimator, KL_ESTIMATORS)
        _require(
            isinstance(self.batch_norm, bool), f"batch_norm must be a bool: {self.batch_norm!r}"
        )
        _require(
            0.0 < self.min_variance < 1.0 and math.isfinite(self.min_variance),
            f"min_variance must be in (0, 1), got {self.min_variance!r}.",
        )

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
        return cls(**_known_fields(cls, values))


@dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained (SPEC §3). Epoch counts are totals, not increments.

    Attributes:
      epochs: total number of epochs.
      batch_size: examples per step.
      learning_rate: Adam's initial learning rate.
      warmup_epochs: β rises linearly from 0 to 1 over this many epochs (0: β = 1).
      mc_samples, iw_samples: samples per example in the objective; the loss is
        the mean over mc_samples of the importance-weighted bound over iw_samples.
      adam_epsilon: Adam's epsilon (1e-4 in the authors' code).
      clipnorm: clip gradients to this global norm (4 in the authors' code; 0 = off).
      lr_decay_rate, lr_decay_epochs, lr_decay_start: from epoch lr_decay_start on,
        multiply the learning rate by lr_decay_rate every lr_decay_epochs epochs
        (lr_decay_rate = 1.0: constant).
      seed: seed of the model's sampling and of the data order and binarization.
      jit_compile, steps_per_execution: speed only (XLA, and the optimizer steps run in
        one compiled call, adjusted to the nearest divisor of the steps per epoch); they
        do not change what is computed.
    """

    epochs: int = 2000
    batch_size: int = 256
    learning_rate: float = 1e-3
    warmup_epochs: int = 200
    mc_samples: int = 1
    iw_samples: int = 1
    adam_epsilon: float = 1e-4
    clipnorm: float = 4.0
    lr_decay_rate: float = 1.0
    lr_decay_epochs: int = 200
    lr_decay_start: int = 0
    seed: int = 0
    jit_compile: bool = True
    steps_per_execution: int = 32

    def __post_init__(self) -> None:
        for name in ("epochs", "warmup_epochs", "lr_decay_start", "seed"):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and value >= 0,
                f"{name} must be a non-negative integer, got {value!r}.",
            )
        for name in (
            "batch_size",
            "mc_samples",
            "iw_samples",
            "lr_decay_epochs",
            "steps_per_execution",
        ):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and value >= 1,
                f"{name} must be a positive integer, got {value!r}.",
            )
        for name in ("learning_rate", "adam_epsilon"):
            value = getattr(self, name)
            _require(value > 0 and math.isfinite(value), f"{name} must be > 0, got {value!r}.")
        _require(self.clipnorm >= 0, f"clipnorm must be >= 0, got {self.clipnorm!r}.")
        _require(
            0 < self.lr_decay_rate <= 1,
            f"lr_decay_rate must be in (0, 1], got {self.lr_decay_rate!r}.",
        )

    def replace(self, **changes: Any) -> TrainingConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        return cls(**_known_fields(cls, values))


@dataclass(frozen=True)
class Preset:
    """The paper's settings for one dataset."""

    model: ModelConfig
    training: TrainingConfig
    finetune: TrainingConfig = field(repr=False)


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _known_fields(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    _require(not unknown, f"unknown {cls.__name__} fields {unknown}; known: {sorted(names)}.")
    return dict(values)


_DATASETS: dict[str, dict[str, Any]] = {
    "mnist": dict(
        input_shape=(28, 28),
        likelihood="bernoulli",
        activation="leaky_relu",
        learning_rate=1e-3,
        warmup_epochs=200,
        epochs=2000,
    ),
    "omniglot": dict(
        input_shape=(28, 28),
        likelihood="bernoulli",
        activation="leaky_relu",
        learning_rate=1e-3,
        warmup_epochs=200,
        epochs=1500,
    ),
    "norb": dict(
        input_shape=(32, 32),
        likelihood="gaussian",
        activation="tanh",
        learning_rate=2e-3,
        warmup_epochs=1000,
        epochs=4000,
    ),
}

PRESET_DATASETS = tuple(_DATASETS)


def finetune_config(base: TrainingConfig, extra_epochs: int = 2000) -> TrainingConfig:
    """The paper's fine-tuning of a run trained with `base` (SPEC §3): 2000 more epochs,
    β = 1, 10 MC and 10 IW samples, the learning rate times 0.75 every 200 epochs."""
    return base.replace(
        epochs=base.epochs + extra_epochs,
        warmup_epochs=0,
        mc_samples=10,
        iw_samples=10,
        lr_decay_rate=0.75,
        lr_decay_epochs=200,
        lr_decay_start=base.epochs,
    )


def preset(dataset: str, num_layers: int = 5, kind: str = "lvae") -> Preset:
    """The paper's model and training settings for `dataset` (SPEC §3).

    Shallower models drop layers from the top (64, 64-32, ...). The fine-tuning
    settings are `finetune_config` of the training settings.
    """
    _one_of("dataset", dataset, PRESET_DATASETS)
    _require(
        isinstance(num_layers, int) and 1 <= num_layers <= len(PAPER_LATENT_DIMS),
        f"num_layers must be 1..{len(PAPER_LATENT_DIMS)} for the paper's presets, "
        f"got {num_layers!r}; pass latent_dims/hidden_dims to ModelConfig for other sizes.",
    )
    s = _DATASETS[dataset]
    model = ModelConfig(
        input_shape=s["input_shape"],
        kind=kind,
        latent_dims=PAPER_LATENT_DIMS[:num_layers],
        hidden_dims=PAPER_HIDDEN_DIMS[:num_layers],
        likelihood=s["likelihood"],
        activation=s["activation"],
    )
    training = TrainingConfig(
        epochs=s["epochs"], learning_rate=s["learning_rate"], warmup_epochs=s["warmup_epochs"]
    )
    finetune = finetune_config(training)
    return Preset(model=model, training=training, finetune=finetune)
