"""How the runs of one of the paper's experiments are made: the budget, the settings of
training and evaluation, and where each run lives (light: the command's options use it
before TensorFlow starts)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from tf_lvae.constants import PAPER_TEST_IW_SAMPLES
from tf_lvae.paper.experiments import (
    PAPER_FINE_TUNING_EPOCHS,
    Experiment,
    FineTuning,
    RunKey,
)
from tf_lvae.presets import finetune_config, preset
from tf_lvae.run_config import RunConfig

# A fine-tuning's learning rate falls every tenth of its epochs, as the paper's (200 of 2000).
FINE_TUNING_DECAYS = 10


def scaled_warmup(epochs: int, paper_epochs: int, paper_warmup: int) -> int:
    """Warm-up epochs in proportion to a reduced budget (at least 1 if epochs > 0):
    the paper's N_t = 200 of 2000 epochs becomes 20 of 200."""
    if epochs <= 0:
        return 0
    return max(1, math.floor(paper_warmup * epochs / paper_epochs + 0.5))


@dataclass(frozen=True)
class ReproduceSettings:
    """How the runs of an experiment are trained and evaluated.

    Attributes:
      epochs: training epochs of every run; None: the paper's.
      iw_samples: K of the final test log-likelihood (the paper's 5000).
      batch_norm: batch-norm statistics for the evaluation ("recomputed": as the authors).
      dataset, data_dir: the data to load (default: the experiment's dataset).
      seed: seed of every run and evaluation.
      eval_every, eval_iw_samples: the test IW bound during training (Fig. 4); eval_every
        None: 20 times per run. eval_iw_samples is also the K of each run's own final
        check (results.json, recomputed batch-norm statistics); the tables report the runner's
        evaluation with iw_samples, so K = 5000 is paid once per run.
      unit_kl_examples: test examples of the per-epoch per-unit KL record (Fig. 5).
      fine_tuning_epochs: the epochs of each of the experiment's fine-tunings (Table 1's
        columns, in order), or one number for all; None: the paper's 2000. Multiples of 10:
        the learning rate falls every tenth of them, the paper's schedule at any budget.
      pixel_scale: what binarized 8-bit grey values are divided by (`RunConfig.pixel_scale`);
        None: the authors' 256 where it applies (MNIST), else 255.
      jit_compile: speed only (XLA).
    """

    epochs: int | None = None
    iw_samples: int = PAPER_TEST_IW_SAMPLES
    batch_norm: str = "recomputed"
    dataset: str | None = None
    data_dir: str | None = None
    seed: int = 0
    eval_every: int | None = None
    eval_iw_samples: int = 100
    unit_kl_examples: int = 1000
    fine_tuning_epochs: tuple[int, ...] | None = None
    pixel_scale: int | None = None
    jit_compile: bool = True


@dataclass(frozen=True)
class Budget:
    """The training budget of every run against the paper's."""

    epochs: int
    warmup_epochs: int
    paper_epochs: int
    paper_warmup_epochs: int

    @classmethod
    def of(cls, experiment: Experiment, epochs: int | None) -> Budget:
        paper = preset(experiment.dataset).training
        epochs = paper.epochs if epochs is None else epochs
        return cls(
            epochs,
            scaled_warmup(epochs, paper.epochs, paper.warmup_epochs),
            paper.epochs,
            paper.warmup_epochs,
        )

    def describe(self) -> str:
        share = "the paper's budget" if self.epochs == self.paper_epochs else "a reduced budget"
        return (
            f"{self.epochs} of the paper's {self.paper_epochs} epochs ({share}); KL warm-up "
            f"over {self.warmup_epochs} of the paper's {self.paper_warmup_epochs} epochs, "
            "scaled in proportion (WU variants only)"
        )


def fine_tuning_epochs(experiment: Experiment, settings: ReproduceSettings) -> dict[str, int]:
    """The epochs of each fine-tuning of the experiment, by slug; raises ValueError when
    settings.fine_tuning_epochs does not fit the experiment."""
    given = settings.fine_tuning_epochs
    columns = experiment.fine_tunings
    if given is not None and not columns:
        raise ValueError(f"{experiment.name} has no fine-tuning: drop --fine-tuning-epochs")
    epochs = (PAPER_FINE_TUNING_EPOCHS,) if given is None else tuple(given)
    if len(epochs) == 1:
        epochs *= len(columns)
    if len(epochs) != len(columns):
        raise ValueError(
            f"{experiment.name} has {len(columns)} fine-tunings "
            f"({', '.join(f.name for f in columns)}): give one number of epochs for all or "
            f"one for each, got {len(epochs)}"
        )
    for f, n in zip(columns, epochs, strict=True):
        if n <= 0 or n % FINE_TUNING_DECAYS:
            raise ValueError(
                f"the fine-tuning {f.name!r} needs a positive multiple of "
                f"{FINE_TUNING_DECAYS} epochs (its learning rate falls every tenth), got {n}"
            )
    return {f.slug: n for f, n in zip(columns, epochs, strict=True)}


def fine_tuned_run_config(
    base: RunConfig, base_path: Path, fine_tuning: FineTuning, epochs: int
) -> RunConfig:
    """The fine-tuning of the run `base` (at base_path) for `epochs` more epochs: β = 1, the
    column's samples, the learning rate × 0.75 every tenth of the epochs, the test IW bound
    at each decay."""
    decay = epochs // FINE_TUNING_DECAYS
    training = finetune_config(
        base.training, epochs, fine_tuning.mc_samples, fine_tuning.iw_samples, decay
    )
    return dataclasses.replace(
        base, training=training, eval_every=decay, init_from=str(Path(base_path).resolve())
    )


def run_path(out: Path, key: RunKey) -> Path:
    """OUT/VARIANT_L-layers for a trained run, and its fine-tunings inside it:
    OUT/VARIANT_L-layers/finetune-SLUG."""
    path = Path(out) / f"{key.variant.slug}_{key.layers}-layers"
    return path if key.fine_tuning is None else path / f"finetune-{key.fine_tuning.slug}"
