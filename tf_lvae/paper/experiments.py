"""The paper's experiments as data (docs/method.md §6): the model variants, the depths, and
the numbers the paper reports.

`paper.settings` makes the runs of an experiment, `paper.runner.run_experiment` trains and
evaluates them, and `paper.tables` sets the results beside the paper's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tf_lvae.constants import FINETUNE_EPOCHS, PAPER_NUM_LAYERS


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
ALL_LAYERS = tuple(range(1, PAPER_NUM_LAYERS + 1))


@dataclass(frozen=True)
class FineTuning:
    """One column of Table 1: the paper's fine-tuning of a finished run (β = 1, the learning
    rate × 0.75 every tenth of the epochs) with these samples per example."""

    name: str
    slug: str
    mc_samples: int
    iw_samples: int


FINE_TUNINGS = (
    FineTuning("annealed lr", "lr", 1, 1),
    FineTuning("MC = 10", "mc10", 10, 1),
    FineTuning("IW = 10", "iw10", 1, 10),
    FineTuning("MC = 10, IW = 10", "mc10-iw10", 10, 10),
)

# The paper's numbers (docs/method.md §6). Log-likelihoods: variant -> {latent layers: nats}.
PAPER_ACTIVE_UNITS = {  # Table 2, the 5-layer MNIST models: layer 1 ... 5
    "VAE": (20, 1, 0, 0, 0),
    "VAE+BN": (20, 9, 3, 3, 2),
    "VAE+BN+WU": (34, 18, 6, 2, 1),
    "LVAE+BN+WU": (46, 22, 8, 3, 2),
}
PAPER_ACTIVE_TOTALS = {"VAE": 21, "VAE+BN": 37, "VAE+BN+WU": 61, "LVAE+BN+WU": 81}
PAPER_MNIST = {  # Figure 3 / Table 1: the 5-layer models
    "VAE+BN+WU": {PAPER_NUM_LAYERS: -82.14},
    "LVAE+BN+WU": {PAPER_NUM_LAYERS: -81.87},
}
PAPER_FINE_TUNED = {  # Table 1: the 5-layer models after each fine-tuning (FINE_TUNINGS slugs)
    "VAE+BN+WU": {"lr": -81.97, "mc10": -81.84, "iw10": -81.41, "mc10-iw10": -81.30},
    "LVAE+BN+WU": {"lr": -81.54, "mc10": -81.46, "iw10": -81.35, "mc10-iw10": -81.20},
}
PAPER_FINE_TUNING_EPOCHS = FINETUNE_EPOCHS


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
    "log_likelihood" (test log-likelihood per depth and variant: Fig. 3, Table 3) or
    "fine_tuning" (Table 1: the test log-likelihood of each variant before and after each
    of `fine_tunings`, which fine-tune every trained run).
    """

    name: str
    title: str
    dataset: str  # the preset (docs/method.md §6) and the default dataset to load
    layers: tuple[int, ...]
    table: str
    paper_log_likelihood: dict[str, dict[int, float]]
    paper_active_units: dict[str, tuple[int, ...]] = field(default_factory=dict)
    digits: int = 2  # decimals of the log-likelihoods, as the paper prints them
    variants: tuple[Variant, ...] = VARIANTS
    fine_tunings: tuple[FineTuning, ...] = ()
    paper_fine_tuned: dict[str, dict[str, float]] = field(default_factory=dict)


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(
            "table2",
            "Table 2: active units of the 5-layer MNIST models",
            "mnist",
            (PAPER_NUM_LAYERS,),
            "active_units",
            PAPER_MNIST,
            PAPER_ACTIVE_UNITS,
        ),
        Experiment(
            "table1",
            "Table 1: fine-tuning the 5-layer MNIST models",
            "mnist",
            (PAPER_NUM_LAYERS,),
            "fine_tuning",
            PAPER_MNIST,
            variants=tuple(v for v in VARIANTS if v.warmup),
            fine_tunings=FINE_TUNINGS,
            paper_fine_tuned=PAPER_FINE_TUNED,
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


def _named(items: Sequence, name: str, what: str):
    """The item of `items` (each with .name and .slug) called `name` or by its slug, in any
    case and spacing; raises ValueError listing the choices."""
    key = name.lower().replace(" ", "")
    for item in items:
        if key in (item.name.lower().replace(" ", ""), item.slug):
            return item
    raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(i.name for i in items)}")


def get_variant(name: str) -> Variant:
    """The variant called `name` ("VAE+BN") or by its slug ("vae-bn")."""
    return _named(VARIANTS, name, "variant")


def get_fine_tuning(name: str) -> FineTuning:
    """Table 1's fine-tuning called `name` ("IW = 10") or by its slug ("iw10")."""
    return _named(FINE_TUNINGS, name, "fine-tuning")


def applicable(variant: Variant, layers: int) -> bool:
    """Whether the paper trains this variant at this depth: a 1-layer LVAE is a VAE."""
    return not (variant.kind == "lvae" and layers == 1)


class RunKey(NamedTuple):
    """One run of an experiment: a variant at a depth, trained from scratch
    (fine_tuning None) or fine-tuned from that run."""

    variant: Variant
    layers: int
    fine_tuning: FineTuning | None = None


def plan(
    experiment: Experiment,
    layers: Sequence[int] | None = None,
    variants: Sequence[Variant] | None = None,
    fine_tunings: Sequence[FineTuning] | None = None,
) -> list[RunKey]:
    """The runs of an experiment, or of a subset of its depths, variants and fine-tunings,
    in table order: each trained run, followed by its fine-tunings."""
    layers = experiment.layers if layers is None else tuple(layers)
    outside = sorted(set(layers) - set(experiment.layers))
    if outside:
        raise ValueError(
            f"{experiment.name} has models with {', '.join(map(str, experiment.layers))} "
            f"latent layers; {', '.join(map(str, outside))} is not among them"
        )
    variants = experiment.variants if variants is None else tuple(variants)
    others = [v.name for v in variants if v not in experiment.variants]
    if others:
        raise ValueError(
            f"{experiment.name} has the variants {', '.join(v.name for v in experiment.variants)}"
            f"; {', '.join(others)} is not among them"
        )
    if fine_tunings is not None and not experiment.fine_tunings:
        raise ValueError(f"{experiment.name} has no fine-tuning: drop --fine-tunings")
    chosen = [f for f in experiment.fine_tunings if fine_tunings is None or f in fine_tunings]
    return [
        RunKey(v, n, f)
        for n in sorted(set(layers))
        for v in variants
        if applicable(v, n)
        for f in (None, *chosen)
    ]
