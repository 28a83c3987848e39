"""The paper's settings (docs/method.md §6) and the convolutional preset (§7): `preset`
gives a dataset's model and training settings, `finetune_config` the paper's fine-tuning
of a run."""

from __future__ import annotations

from dataclasses import dataclass, field

from tf_lvae.config import ARCHITECTURES, ModelConfig, TrainingConfig, one_of, require
from tf_lvae.constants import (
    FINETUNE_DECAY_EPOCHS,
    FINETUNE_EPOCHS,
    FINETUNE_SAMPLES,
    PAPER_HIDDEN_DIMS,
    PAPER_LATENT_DIMS,
    PAPER_NUM_LAYERS,
)


@dataclass(frozen=True)
class Preset:
    """The paper's settings for one dataset."""

    model: ModelConfig
    training: TrainingConfig
    finetune: TrainingConfig = field(repr=False)


@dataclass(frozen=True)
class DatasetSettings:
    """The paper's settings that differ between its datasets (docs/method.md §6)."""

    input_shape: tuple[int, ...]
    likelihood: str
    activation: str
    learning_rate: float
    warmup_epochs: int
    epochs: int


_DATASETS = {
    "mnist": DatasetSettings((28, 28), "bernoulli", "leaky_relu", 1e-3, 200, 2000),
    "omniglot": DatasetSettings((28, 28), "bernoulli", "leaky_relu", 1e-3, 200, 1500),
    "norb": DatasetSettings((32, 32), "gaussian", "tanh", 2e-3, 1000, 4000),
}
PRESET_DATASETS = tuple(_DATASETS)

# The convolutional presets (docs/method.md §7), the same hierarchy for every dataset: five
# latent layers of 8 channels, each at half the resolution of the one below (28x28 images:
# 14, 7, 4, 2, 1; 32x32: 16, 8, 4, 2, 1), residual blocks of 32 channels, one per
# connection; the largest of the sizes measured that trains 150 MNIST epochs within the
# budget docs/results/conv-mnist states. Leaky ReLU everywhere; the likelihood is the
# dataset's.
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
    one_of("dataset", dataset, PRESET_DATASETS)
    one_of("architecture", architecture, ARCHITECTURES)
    require(
        isinstance(num_layers, int) and 1 <= num_layers <= len(PAPER_LATENT_DIMS),
        f"num_layers must be 1..{len(PAPER_LATENT_DIMS)} for the presets, got "
        f"{num_layers!r}; pass latent_dims/hidden_dims to ModelConfig for other sizes.",
    )
    s = _DATASETS[dataset]
    data = {"input_shape": s.input_shape, "kind": kind, "likelihood": s.likelihood}
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
            activation=s.activation,
        )
        training = TrainingConfig(
            epochs=s.epochs, learning_rate=s.learning_rate, warmup_epochs=s.warmup_epochs
        )
    return Preset(model=model, training=training, finetune=finetune_config(training))
