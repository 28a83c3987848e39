"""How the runs of one of the paper's experiments are made: the budget, the settings of
training and evaluation, and where each run lives (light: the command's options use it
before TensorFlow starts)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tf_lvae.config import PAPER_TEST_IW_SAMPLES, preset
from tf_lvae.paper.experiments import Experiment, Variant


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


def run_path(out: Path, variant: Variant, layers: int) -> Path:
    return Path(out) / f"{variant.slug}_{layers}-layers"
