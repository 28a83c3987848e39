"""The paper's experiments as data (docs/method.md §6): the model variants, the depths, the paper's
numbers, the reduced budgets, and the run configuration of every (variant, depth).

`reproduction.run_experiment` trains and evaluates them; `experiment_tables.markdown`
sets the results beside the paper's numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tf_lvae.config import preset
from tf_lvae.data import DatasetArrays
from tf_lvae.run_dir import RunConfig


@dataclass(frozen=True)
class Variant:
    """One of the paper's model variants: the inference model, batch norm, KL warm-up."""

    name: str
    kind: str
    batch_norm: bool
    warmup: bool

    @property
    def slug(self) -> str:
        """The variant's name in paths: "VAE+BN+WU" -> "vae-bn-wu"."""
        return self.name.lower().replace("+", "-")


VARIANTS = (
    Variant("VAE", "vae", batch_norm=False, warmup=False),
    Variant("VAE+BN", "vae", batch_norm=True, warmup=False),
    Variant("VAE+BN+WU", "vae", batch_norm=True, warmup=True),
    Variant("LVAE+BN+WU", "lvae", batch_norm=True, warmup=True),
)
ALL_LAYERS = (1, 2, 3, 4, 5)

# The paper's numbers (docs/method.md §6). Log-likelihoods: variant -> {latent layers: nats}.
PAPER_ACTIVE_UNITS = {  # Table 2, 5-layer MNIST models: layer 1 ... 5
    "VAE": (20, 1, 0, 0, 0),
    "VAE+BN": (20, 9, 3, 3, 2),
    "VAE+BN+WU": (34, 18, 6, 2, 1),
    "LVAE+BN+WU": (46, 22, 8, 3, 2),
}
PAPER_ACTIVE_TOTALS = {"VAE": 21, "VAE+BN": 37, "VAE+BN+WU": 61, "LVAE+BN+WU": 81}
PAPER_MNIST = {"VAE+BN+WU": {5: -82.14}, "LVAE+BN+WU": {5: -81.87}}  # Figure 3 / Table 1


def _by_variant(rows: dict[int, tuple[float | None, ...]]) -> dict[str, dict[int, float]]:
    """Table 3's rows (layers -> one value per variant, None: not reported) by variant."""
    return {
        v.name: {n: row[i] for n, row in rows.items() if row[i] is not None}
        for i, v in enumerate(VARIANTS)
    }


PAPER_OMNIGLOT = _by_variant(
    {
        1: (-114.45, -108.79, -104.63, None),
        2: (-112.60, -106.86, -102.03, -102.12),
        3: (-112.13, -107.09, -101.60, -101.26),
        4: (-112.49, -107.66, -101.68, -101.27),
        5: (-112.10, -107.94, -101.86, -101.59),
    }
)
PAPER_NORB = _by_variant(
    {
        1: (2630.8, 3263.7, 3481.5, None),
        2: (2830.8, 3140.1, 3532.9, 3522.7),
        3: (2757.5, 3247.3, 3346.7, 3458.7),
        4: (2832.0, 3302.3, 3393.6, 3499.4),
        5: (3064.1, 3258.7, 3393.6, 3430.3),
    }
)


@dataclass(frozen=True)
class Experiment:
    """One table or figure of the paper: which models, on which data, against which numbers.

    `table` is "active_units" (Table 2: units per layer of the 5-layer models) or
    "log_likelihood" (test log-likelihood per depth and variant: Fig. 3, Table 3).
    """

    name: str
    title: str
    dataset: str  # the preset (docs/method.md §6) and the default dataset to load
    layers: tuple[int, ...]
    table: str
    paper_log_likelihood: dict[str, dict[int, float]]
    paper_active_units: dict[str, tuple[int, ...]] = field(default_factory=dict)
    digits: int = 2  # decimals of the log-likelihoods, as the paper prints them


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(
            "table2",
            "Table 2: active units of the 5-layer MNIST models",
            "mnist",
            (5,),
            "active_units",
            PAPER_MNIST,
            PAPER_ACTIVE_UNITS,
        ),
        Experiment(
            "figure3",
            "Figure 3: MNIST test log-likelihood against the number of latent layers",
            "mnist",
            ALL_LAYERS,
            "log_likelihood",
            PAPER_MNIST,
        ),
        Experiment(
            "table3-omniglot",
            "Table 3: OMNIGLOT test log-likelihood",
            "omniglot",
            ALL_LAYERS,
            "log_likelihood",
            PAPER_OMNIGLOT,
        ),
        Experiment(
            "table3-norb",
            "Table 3: NORB test log-likelihood",
            "norb",
            ALL_LAYERS,
            "log_likelihood",
            PAPER_NORB,
            digits=1,
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def get_variant(name: str) -> Variant:
    """The variant called `name` ("VAE+BN") or by its slug ("vae-bn"), any case."""
    for v in VARIANTS:
        if name.lower() in (v.name.lower(), v.slug):
            return v
    raise ValueError(f"unknown variant {name!r}; choose from {', '.join(v.name for v in VARIANTS)}")


def applicable(variant: Variant, layers: int) -> bool:
    """Whether the paper trains this variant at this depth: a 1-layer LVAE is a VAE."""
    return not (variant.kind == "lvae" and layers == 1)


def plan(
    experiment: Experiment,
    layers: Sequence[int] | None = None,
    variants: Sequence[Variant] | None = None,
) -> list[tuple[Variant, int]]:
    """The (variant, latent layers) runs of an experiment, or of a subset of its depths
    and variants, in table order."""
    layers = experiment.layers if layers is None else tuple(layers)
    outside = sorted(set(layers) - set(experiment.layers))
    if outside:
        raise ValueError(
            f"{experiment.name} has models with {', '.join(map(str, experiment.layers))} "
            f"latent layers; {', '.join(map(str, outside))} is not among them"
        )
    variants = VARIANTS if variants is None else tuple(variants)
    return [(v, n) for n in sorted(set(layers)) for v in variants if applicable(v, n)]


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
      iw_samples: K of the final test log-likelihood (the paper: 5000).
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
    iw_samples: int = 5000
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


def run_config(
    experiment: Experiment,
    variant: Variant,
    layers: int,
    data: DatasetArrays,
    settings: ReproduceSettings,
) -> RunConfig:
    """The run of `variant` with `layers` latent layers: the paper's preset for the
    experiment's dataset, the variant's batch norm and warm-up, the budget's epochs."""
    base = preset(experiment.dataset, layers, variant.kind)
    budget = Budget.of(experiment, settings.epochs)
    model = dataclasses.replace(
        base.model,
        batch_norm=variant.batch_norm,
        input_shape=data.image_shape,
        likelihood=data.likelihood,
    )
    training = base.training.replace(
        epochs=budget.epochs,
        warmup_epochs=budget.warmup_epochs if variant.warmup else 0,
        seed=settings.seed,
        jit_compile=settings.jit_compile,
    )
    if training.batch_size > len(data.x_train):
        raise ValueError(
            f"the batch size {training.batch_size} is larger than the {len(data.x_train)} "
            f"training examples of {data.name}"
        )
    return RunConfig(
        dataset=settings.dataset or experiment.dataset,
        data_dir=settings.data_dir,
        model=model,
        training=training,
        eval_every=settings.eval_every or max(1, math.ceil(budget.epochs / 20)),
        eval_iw_samples=settings.eval_iw_samples,
        final_iw_samples=settings.eval_iw_samples,
        unit_kl_examples=settings.unit_kl_examples,
    )


def run_path(out: Path, variant: Variant, layers: int) -> Path:
    return Path(out) / f"{variant.slug}_{layers}-layers"
