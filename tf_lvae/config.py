"""Configuration as data: the model, the training run, and the paper's presets.

`ModelConfig` describes a model completely (it is what `get_config` stores);
`TrainingConfig` describes how it is trained. `preset` returns both for the
paper's settings (docs/method.md §6) on mnist, omniglot and norb with 1 to 5 latent layers.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from tf_lvae.architecture import ARCHITECTURES as _ARCHITECTURE_OBJECTS
from tf_lvae.architecture import architecture_of

MODEL_KINDS = ("lvae", "vae")
ARCHITECTURES = tuple(_ARCHITECTURE_OBJECTS)
LIKELIHOODS = ("bernoulli", "gaussian")
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

# The paper's constants (docs/method.md §4, §6), each named once.
PAPER_LATENT_DIMS = (64, 32, 16, 8, 4)
PAPER_HIDDEN_DIMS = (512, 256, 128, 64, 32)
PAPER_NUM_LAYERS = len(PAPER_LATENT_DIMS)  # the largest model: 5 latent layers
PAPER_TEST_IW_SAMPLES = 5000  # K of the test log-likelihood
FINETUNE_EPOCHS = 2000  # the fine-tuning's further epochs
FINETUNE_DECAY_EPOCHS = 200  # its learning rate falls by 0.75 every this many epochs
FINETUNE_SAMPLES = 10  # its MC and IW samples


def device_name(name: str) -> str | None:
    """The local device `name` as TYPE:INDEX ("/device:gpu:1" -> "GPU:1"); None when it does
    not name one device."""
    match = _DEVICE_NAME.match(name) if isinstance(name, str) else None
    return f"{match.group(1).upper()}:{int(match.group(2))}" if match else None


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
      likelihood: "bernoulli" (logits) or "gaussian" (linear mean, softplus variance).
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
        _one_of("architecture", self.architecture, ARCHITECTURES)
        architecture_of(self).check(self)
        _one_of("likelihood", self.likelihood, LIKELIHOODS)
        _one_of("activation", self.activation, ACTIVATIONS)
        _one_of("top_down", self.top_down, TOP_DOWN)
        _one_of("kl_estimator", self.kl_estimator, KL_ESTIMATORS)
        _require(
            isinstance(self.batch_norm, bool), f"batch_norm must be a bool: {self.batch_norm!r}"
        )
        _require(
            self.latent_batch_norm is None or isinstance(self.latent_batch_norm, bool),
            f"latent_batch_norm must be a bool or None: {self.latent_batch_norm!r}",
        )
        _require(
            self.batch_norm or self.latent_batch_norm is not True,
            "latent_batch_norm=True needs batch_norm=True (batch norm on the latent layers "
            "only is not one of the paper's models).",
        )
        _require(
            isinstance(self.synchronized_batch_norm, bool),
            f"synchronized_batch_norm must be a bool: {self.synchronized_batch_norm!r}",
        )
        _require(
            0.0 < self.batch_norm_epsilon < 1.0 and math.isfinite(self.batch_norm_epsilon),
            f"batch_norm_epsilon must be in (0, 1), got {self.batch_norm_epsilon!r}.",
        )
        _require(
            not (self.kind == "vae" and self.kl_estimator == "analytic"),
            'kl_estimator="analytic" is not the ELBO\'s KL for kind="vae": there z_{i+1} is '
            "drawn from q(z_{i+1} | z_i), so the closed form given that sample is not "
            'E_q[log q(z_i | .) - log p(z_i | z_{i+1})]. Use kl_estimator="mc".',
        )
        _require(
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
            _require(
                isinstance(value, int) and value >= 0,
                f"{name} must be a non-negative integer, got {value!r}.",
            )
        _require(self.seed < 2**31, f"seed must be below 2**31, got {self.seed}.")
        for name in (
            "batch_size",
            "mc_samples",
            "iw_samples",
            "lr_decay_epochs",
            "steps_per_execution",
            "max_consecutive_skips",
        ):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and value >= 1,
                f"{name} must be a positive integer, got {value!r}.",
            )
        for name in ("learning_rate", "adam_epsilon"):
            value = getattr(self, name)
            _require(value > 0 and math.isfinite(value), f"{name} must be > 0, got {value!r}.")
        for name in ("clipnorm", "clipvalue"):
            value = getattr(self, name)
            _require(value >= 0 and math.isfinite(value), f"{name} must be >= 0, got {value!r}.")
        _require(
            0 < self.lr_decay_rate <= 1,
            f"lr_decay_rate must be in (0, 1], got {self.lr_decay_rate!r}.",
        )
        _one_of("strategy", self.strategy, STRATEGIES)
        _require(
            isinstance(self.free_bits, int | float) and 0 <= self.free_bits <= FLOAT32_MAX,
            f"free_bits must be a number of nats >= 0 that float32 holds, got {self.free_bits!r}.",
        )
        _one_of("free_bits_group", self.free_bits_group, FREE_BITS_GROUPS)
        _require(
            not (self.free_bits > 0 and self.iw_samples > 1),
            f"free bits apply to the ELBO's KL terms, which the importance-weighted bound "
            f"(iw_samples={self.iw_samples}) does not have: use iw_samples=1 with free_bits, "
            "or free_bits=0.",
        )
        object.__setattr__(self, "devices", tuple(self.devices))
        names = [device_name(d) for d in self.devices]
        _require(
            None not in names,
            f"devices must be device names like GPU:0 or CPU:1, got {self.devices!r}.",
        )
        _require(
            len(set(names)) == len(names),
            f"devices {', '.join(self.devices)} name a device more than once; name each once.",
        )
        _require(
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

# The convolutional presets (docs/method.md §7), the same hierarchy for every dataset: five
# latent layers of 8 channels, each at half the resolution of the one below (28x28 images:
# 14, 7, 4, 2, 1; 32x32: 16, 8, 4, 2, 1), residual blocks of 32 channels, one per
# connection; the largest of the sizes measured that trains 150 MNIST epochs in about 3
# hours on this project's 2-core CPU (docs/results/conv-mnist). Leaky ReLU everywhere; the
# likelihood is the dataset's.
CONV_LATENT_CHANNELS = (8, 8, 8, 8, 8)
CONV_CHANNELS = (32, 32, 32, 32, 32)
CONV_STRIDES = (2, 2, 2, 2, 2)
CONV_RESIDUAL_BLOCKS = 1
CONV_TRAINING = {"epochs": 150, "warmup_epochs": 15, "learning_rate": 1e-3}


def finetune_config(
    base: TrainingConfig,
    extra_epochs: int = FINETUNE_EPOCHS,
    mc_samples: int = FINETUNE_SAMPLES,
    iw_samples: int = FINETUNE_SAMPLES,
    decay_epochs: int = FINETUNE_DECAY_EPOCHS,
) -> TrainingConfig:
    """The paper's fine-tuning of a run trained with `base` (docs/method.md §6): by default
    FINETUNE_EPOCHS (2000) more epochs, β = 1, 10 MC and 10 IW samples, the learning rate
    times 0.75 every 200 epochs (Table 1's columns change the samples and, at a reduced
    budget, the decay period). Free bits are off: the fine-tuning trains the true bound."""
    return base.replace(
        epochs=base.epochs + extra_epochs,
        warmup_epochs=0,
        free_bits=0.0,
        mc_samples=mc_samples,
        iw_samples=iw_samples,
        lr_decay_rate=0.75,
        lr_decay_epochs=decay_epochs,
        lr_decay_start=base.epochs,
    )


def preset(
    dataset: str,
    num_layers: int = PAPER_NUM_LAYERS,
    kind: str = "lvae",
    architecture: str = "mlp",
) -> Preset:
    """The model and training settings for `dataset`: the paper's (architecture "mlp",
    docs/method.md §6) or the convolutional preset ("conv", §7).

    Shallower models drop layers from the top (64, 64-32, ...). The fine-tuning
    settings are `finetune_config` of the training settings.
    """
    _one_of("dataset", dataset, PRESET_DATASETS)
    _one_of("architecture", architecture, ARCHITECTURES)
    _require(
        isinstance(num_layers, int) and 1 <= num_layers <= len(PAPER_LATENT_DIMS),
        f"num_layers must be 1..{len(PAPER_LATENT_DIMS)} for the presets, got "
        f"{num_layers!r}; pass latent_dims/hidden_dims to ModelConfig for other sizes.",
    )
    s = _DATASETS[dataset]
    data = {"input_shape": s["input_shape"], "kind": kind, "likelihood": s["likelihood"]}
    if architecture == "conv":
        model = ModelConfig(
            **data,
            architecture="conv",
            latent_dims=CONV_LATENT_CHANNELS[:num_layers],
            hidden_dims=CONV_CHANNELS[:num_layers],
            strides=CONV_STRIDES[:num_layers],
            residual_blocks=CONV_RESIDUAL_BLOCKS,
            activation="leaky_relu",
        )
        training = TrainingConfig(**CONV_TRAINING)
    else:
        model = ModelConfig(
            **data,
            latent_dims=PAPER_LATENT_DIMS[:num_layers],
            hidden_dims=PAPER_HIDDEN_DIMS[:num_layers],
            activation=s["activation"],
        )
        training = TrainingConfig(
            epochs=s["epochs"], learning_rate=s["learning_rate"], warmup_epochs=s["warmup_epochs"]
        )
    return Preset(model=model, training=training, finetune=finetune_config(training))


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run, saved as RUN_DIR/config.json.

    Attributes:
      dataset: the dataset spec given to `tf_lvae.data.load_dataset` ("mnist", "npz:PATH",
        "folder:PATH", ...).
      data_dir: where the data was read from (None: tensorflow-datasets' default).
      image_size: (height, width) the images of a folder: dataset are resized to; None:
        as they are.
      model, training: the model and how it is trained.
      validation: examples (int) or fraction (float) of the training set held out; 0 = none.
      monitor_every: record the test ELBO and the per-unit KL every this many epochs
        and at the last one.
      eval_every: compute the test IW bound every this many epochs during training (0 = never).
      eval_iw_samples: K of that periodic test IW bound.
      final_iw_samples: K of the final test log-likelihood (the paper's 5000).
      unit_kl_examples: test examples used for the per-unit KL record (0 = off).
      init_from: a finished run whose last checkpoint starts this one (fine-tuning), or None.
      dequantize: with a Gaussian likelihood on integer-valued data (8-bit images), add
        uniform noise to the integers, afresh every epoch in training and once for
        evaluation (docs/method.md §5); False: the values as stored.
      pixel_scale: 8-bit images binarized for a Bernoulli likelihood are drawn from
        byte / pixel_scale: 255 (the tfds and torchvision convention) or 256 (the authors'
        MNIST, `AUTHORS_PIXEL_SCALE`), in training, in every evaluation and in the
        batch-norm pass alike (`tf_lvae.data.splits.load_run_data`).
    """

    dataset: str
    data_dir: str | None
    model: ModelConfig
    training: TrainingConfig
    validation: float = 0
    monitor_every: int = 5
    eval_every: int = 100
    eval_iw_samples: int = 100
    final_iw_samples: int = PAPER_TEST_IW_SAMPLES
    unit_kl_examples: int = 1000
    init_from: str | None = None
    dequantize: bool = True
    image_size: tuple[int, int] | None = None
    pixel_scale: int = PIXEL_SCALES[0]

    def __post_init__(self) -> None:
        if self.image_size is not None:
            object.__setattr__(self, "image_size", tuple(self.image_size))
            _require(
                len(self.image_size) == 2
                and all(isinstance(d, int) and d >= 1 for d in self.image_size),
                f"image_size must be two positive integers (height, width), got "
                f"{self.image_size!r}.",
            )
        _require(
            isinstance(self.validation, int | float)
            and math.isfinite(self.validation)
            and self.validation >= 0,
            f"validation must be a count or a fraction >= 0, got {self.validation!r}.",
        )
        for name, low in (
            ("monitor_every", 1),
            ("eval_every", 0),
            ("eval_iw_samples", 1),
            ("final_iw_samples", 1),
            ("unit_kl_examples", 0),
        ):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and value >= low,
                f"{name} must be an integer >= {low}, got {value!r}.",
            )
        most = self.model.data_dim * math.log(256)
        _require(
            self.training.free_bits <= most,
            f"free bits of {self.training.free_bits:g} nats per group are more than any data "
            f"this model takes can hold ({self.model.data_dim} values of 8 bits: "
            f"{most:,.0f} nats): every group would sit at the floor and the KL would not be "
            "trained. Give --free-bits a few nats or less.",
        )
        _require(
            type(self.pixel_scale) is int and self.pixel_scale in PIXEL_SCALES,
            f"pixel_scale must be one of {PIXEL_SCALES}, got {self.pixel_scale!r}.",
        )
        _require(
            not self.model.batch_norm or self.training.batch_size >= 2,
            "batch norm needs batches of 2 or more examples: on one it subtracts the "
            "example's own mean, so every normalized unit is 0 and the networks' outputs do "
            "not depend on their inputs. Use a batch size of 2 or more (--batch-size), or no "
            "batch norm (--no-batch-norm).",
        )

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["model"] = self.model.to_dict()
        values["training"] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        """The config of a `to_dict` dict; one written before `dequantize` existed trained
        on the stored values."""
        values = {"dequantize": False, **values}
        values["model"] = ModelConfig.from_dict(values["model"])
        values["training"] = TrainingConfig.from_dict(values["training"])
        return cls(**values)


_EVALUATION_SPEED_ONLY = ("batch_size", "jit_compile")


def pixel_scale_name(pixel_scale: int | None) -> str:
    """'pixel-scale-N' for an evaluation at another pixel scale than its run's, else ''."""
    return "" if pixel_scale is None else f"pixel-scale-{pixel_scale}"


@dataclass(frozen=True)
class EvaluationSettings:
    """How a run is evaluated.

    Attributes:
      iw_samples: K of the IW bound (the paper's 5000).
      split: "test", "train" or "validation" (see `evaluation.split_images`).
      batch_norm: "recomputed" (one pass over the training set, as the authors; see
        `batch_norm_stats`) or "moving" (the moving averages of training, from the
        latest checkpoint).
      seed: seed of the posterior samples and of the fresh binarization; None: the
        run's training seed.
      first_example, examples: evaluate this many examples of the split (None: all) from
        first_example on, a multiple of batch_size. A part that also ends on a multiple
        of batch_size (or at the split's end) draws the samples the whole split's
        evaluation draws for its examples, so parts combine into it exactly
        (`runs.report_parts`).
      batch_size, jit_compile: speed only (examples per compiled call, XLA); the draws
        depend on them, so the parts of one evaluation share them.
      pixel_scale: evaluate on binarized 8-bit images drawn from byte / pixel_scale, the
        batch-norm statistics recomputed from training images drawn the same way
        (`RunConfig.pixel_scale`); None: the run's own.
    """

    iw_samples: int = PAPER_TEST_IW_SAMPLES
    split: str = "test"
    batch_norm: str = "recomputed"
    seed: int | None = None
    examples: int | None = None
    batch_size: int = 500
    jit_compile: bool = True
    first_example: int = 0
    pixel_scale: int | None = None

    def __post_init__(self) -> None:
        if self.pixel_scale is not None and self.pixel_scale not in PIXEL_SCALES:
            raise ValueError(f"pixel_scale must be one of {PIXEL_SCALES}, got {self.pixel_scale}")
        if self.iw_samples < 1:
            raise ValueError(f"the number of IW samples K must be >= 1, got {self.iw_samples}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.batch_norm not in BATCH_NORM_CHOICES:
            raise ValueError(
                f"batch_norm must be one of {', '.join(BATCH_NORM_CHOICES)}, "
                f"got {self.batch_norm!r}"
            )
        if self.examples is not None and self.examples < 1:
            raise ValueError(f"examples must be >= 1, got {self.examples}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.first_example < 0 or self.first_example % self.batch_size:
            raise ValueError(
                f"the first example ({self.first_example}) must be a multiple of the batch "
                f"size ({self.batch_size}), so that the part draws what the whole split's "
                "evaluation draws for it"
            )

    @property
    def part_name(self) -> str:
        """'' for the whole split, else 'examples-START-END' (END exclusive, or 'end')."""
        if self.first_example == 0 and self.examples is None:
            return ""
        end = "end" if self.examples is None else self.first_example + self.examples
        return f"examples-{self.first_example}-{end}"

    @property
    def report_name(self) -> str:
        """What names the report beside its split: `pixel_scale_name`, then `part_name`,
        joined by '-' ('' for the whole split at the run's own pixel scale)."""
        return "-".join(filter(None, (pixel_scale_name(self.pixel_scale), self.part_name)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def same_numbers(self, recorded: dict[str, Any]) -> bool:
        """Whether settings recorded in a report give the same numbers as these (a report
        written before first_example existed evaluated from the first example on)."""
        recorded = {"first_example": 0, **recorded}
        mine = {k: v for k, v in self.to_dict().items() if k not in _EVALUATION_SPEED_ONLY}
        return all(recorded.get(k) == v for k, v in mine.items())
