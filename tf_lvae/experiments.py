"""The paper's experiments: model variants, depths, the paper's numbers, and a resumable
runner that trains, evaluates and tabulates them (SPEC §4).

Every run lives in its own run directory (OUT/VARIANT_L-layers) and is trained by
`trainer.train_run`, so a finished run is skipped and an interrupted one resumes from
its latest checkpoint. Every run is then evaluated identically by
`run_report.evaluate_run` (kept in RUN/evaluation-test.json and reused while its
settings match), and the results are written as a markdown table beside the paper's.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tf_lvae import figures
from tf_lvae.config import PAPER_LATENT_DIMS, preset
from tf_lvae.data import DatasetArrays, load_dataset
from tf_lvae.run_dir import RunConfig, RunDir, write_atomic, write_json
from tf_lvae.run_report import EvaluationSettings, evaluate_run, evaluation_path
from tf_lvae.trainer import train_run


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

# The paper's numbers (SPEC §4). Log-likelihoods: variant -> {latent layers: nats}.
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
    dataset: str  # the preset (SPEC §3) and the default dataset to load
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
        check (results.json, batch-norm moving averages); the tables report the runner's
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


def _differences(old: RunConfig, new: RunConfig) -> list[str]:
    """Settings that differ between two run configs, ignoring speed-only ones and data_dir."""
    ignore = {"data_dir", "jit_compile", "steps_per_execution"}
    flat_old, flat_new = _flatten(old.to_dict()), _flatten(new.to_dict())
    return [
        f"{key}: {flat_old.get(key)} -> {flat_new.get(key)}"
        for key in sorted(set(flat_old) | set(flat_new))
        if key.split(".")[-1] not in ignore and flat_old.get(key) != flat_new.get(key)
    ]


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def prepare_run(path: Path, config: RunConfig) -> RunDir:
    """The run directory at `path` holding `config`: created if new; an existing one must
    hold the same settings (so that a rerun resumes it instead of mixing budgets)."""
    run = RunDir(path)
    if not run.exists():
        run.write_config(config)
        return run
    changed = _differences(run.read_config(), config)
    if changed:
        raise ValueError(
            f"{run.path} holds a run with other settings ({'; '.join(changed)}); "
            "rerun with the settings it was started with, or choose another --out"
        )
    return run


def saved_report(
    run: RunDir, config: RunConfig, settings: EvaluationSettings
) -> dict[str, Any] | None:
    """The run's saved evaluation report if it holds `config` and the report was made
    with `settings` after the last epoch, else None."""
    path = evaluation_path(run, settings.split)
    if not (run.exists() and path.is_file()) or _differences(run.read_config(), config):
        return None
    report = json.loads(path.read_text())
    current = report["epochs_trained"] == config.training.epochs
    return report if current and settings.same_numbers(report["settings"]) else None


def evaluate_once(
    run: RunDir,
    config: RunConfig,
    settings: EvaluationSettings,
    data: DatasetArrays,
    print_fn: Callable = print,
) -> dict[str, Any]:
    """The run's evaluation report: the saved one when up to date (see `saved_report`),
    else a new one, saved in RUN/evaluation-test.json."""
    report = saved_report(run, config, settings)
    if report is not None:
        print_fn(f"{evaluation_path(run, settings.split)} is up to date")
        return report
    report = evaluate_run(run.path, settings, data=data, print_fn=print_fn)
    write_json(evaluation_path(run, settings.split), report)
    return report


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    settings: ReproduceSettings = ReproduceSettings(),
    layers: Sequence[int] | None = None,
    variants: Sequence[Variant] | None = None,
    print_fn: Callable = print,
) -> dict[str, Any]:
    """Trains (or resumes, or skips when finished) and evaluates the runs of the
    experiment under `out` (all, or the given depths and variants), then writes
    OUT/EXPERIMENT.md (the table beside the paper's numbers), OUT/EXPERIMENT.json (every
    number) and, for log-likelihood experiments, OUT/EXPERIMENT.png (Fig. 3), with every
    run of the experiment under `out` that is evaluated with these settings (so that
    subsets run one after the other fill one table). Returns the JSON's content."""
    out = Path(out)
    selected = plan(experiment, layers, variants)
    data = load_dataset(settings.dataset or experiment.dataset, settings.data_dir)
    evaluation = EvaluationSettings(
        iw_samples=settings.iw_samples,
        batch_norm=settings.batch_norm,
        seed=settings.seed,
        jit_compile=settings.jit_compile,
    )
    configs = {key: run_config(experiment, *key, data, settings) for key in plan(experiment)}
    runs = {key: prepare_run(run_path(out, *key), configs[key]) for key in selected}
    for i, (key, run) in enumerate(runs.items()):
        print_fn(f"[{i + 1}/{len(runs)}] {key[0].name}, {key[1]}-layer: {run.path}")
        train_run(run, data=data, print_fn=print_fn)
        evaluate_once(run, configs[key], evaluation, data, print_fn)
    results = []
    for key, config in configs.items():
        run = RunDir(run_path(out, *key))
        report = saved_report(run, config, evaluation)
        if report is not None:
            results.append(_result(experiment, *key, run, report))
    summary = {
        "experiment": experiment.name,
        "title": experiment.title,
        "budget": dataclasses.asdict(Budget.of(experiment, settings.epochs)),
        "settings": dataclasses.asdict(settings),
        "dataset": data.name,
        "data_source": data.source,
        "test_examples": len(data.x_test),
        "runs": results,
    }
    write_json(out / f"{experiment.name}.json", summary)
    table = markdown(experiment, summary)
    write_atomic(out / f"{experiment.name}.md", lambda tmp: tmp.write_text(table))
    print_fn(table)
    if experiment.table == "log_likelihood":
        figures.depth_curves(
            _by_depth(results),
            experiment.paper_log_likelihood,
            out / f"{experiment.name}.png",
            experiment.title,
        )
    print_fn(f"-> {out / experiment.name}.md, .json")
    return summary


def _result(
    experiment: Experiment, variant: Variant, layers: int, run: RunDir, report: dict[str, Any]
) -> dict[str, Any]:
    paper_units = experiment.paper_active_units.get(variant.name)
    return {
        "variant": variant.name,
        "layers": layers,
        "run_dir": str(run.path),
        "log_likelihood": report["log_likelihood"],
        "elbo": report["elbo"],
        "active_units": report["active_units"]["per_layer"],
        "kl_to_prior": report["kl_to_prior"]["per_layer"],
        "kl_to_standard_normal": report["kl_to_standard_normal"]["per_layer"],
        "iw_samples": report["iw_samples"],
        "examples": report["examples"],
        "batch_norm_statistics": report["batch_norm_statistics"]["used"],
        "paper_log_likelihood": experiment.paper_log_likelihood.get(variant.name, {}).get(layers),
        "paper_active_units": list(paper_units) if paper_units and layers == 5 else None,
    }


def _by_depth(results: list[dict[str, Any]]) -> dict[str, dict[int, float]]:
    """variant -> {layers: test log-likelihood}."""
    table: dict[str, dict[int, float]] = {}
    for r in results:
        table.setdefault(r["variant"], {})[r["layers"]] = r["log_likelihood"]
    return table


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace("-", "−")


def _cells(
    results: dict[tuple[str, int], dict[str, Any]],
    layers: int,
    ours: Callable[[dict[str, Any]], float],
    paper: Callable[[str], float | None],
    digits: int,
) -> list[str]:
    """One cell per variant at this depth: "ours (the paper's)", "not run", or "n/a"."""
    cells = []
    for v in VARIANTS:
        result = results.get((v.name, layers))
        if not applicable(v, layers):
            cells.append("n/a")
        elif result is None:
            cells.append(f"not run ({_number(paper(v.name), digits)})")
        else:
            cells.append(f"{_number(ours(result), digits)} ({_number(paper(v.name), digits)})")
    return cells


def _row(label: str, cells: list[str]) -> str:
    return f"| {label} | " + " | ".join(cells) + " |"


def markdown(experiment: Experiment, summary: dict[str, Any]) -> str:
    """The experiment's results as markdown: what was run and how, then the table with
    one column per variant, each cell "ours (the paper's)"."""
    budget = Budget(**summary["budget"])
    model, training = preset(experiment.dataset).model, preset(experiment.dataset).training
    s = summary["settings"]
    results = {(r["variant"], r["layers"]): r for r in summary["runs"]}
    paper_ll = experiment.paper_log_likelihood
    bn = (
        "recomputed from one pass over the training set (as the authors evaluated)"
        if s["batch_norm"] == "recomputed"
        else "the moving averages of training"
    )
    lines = [
        f"## {experiment.title}",
        "",
        f"- Budget: {budget.describe()}.",
        f"- Models and training: the paper's for {experiment.dataset} (SPEC §3): latent "
        f"layers {'-'.join(map(str, model.latent_dims))} from the bottom (shallower models "
        f"drop the top ones), two-layer MLPs of {'-'.join(map(str, model.hidden_dims))} "
        f"units, {model.activation}; Adam, learning rate {training.learning_rate}, batch "
        f"{training.batch_size}, one sample per example.",
        f"- Test log-likelihood: the IW bound with K = {s['iw_samples']} (the paper: 5000) on "
        f"the {summary['test_examples']:,} test examples of {summary['dataset']} "
        f"({summary['data_source']}); batch-norm statistics {bn}; seed {s['seed']}.",
        "- Each cell: ours (the paper's). –: not reported by the paper; n/a: a 1-layer LVAE "
        "is a VAE; not run: not part of this reproduction.",
        "",
        _row(
            "latent layers" if experiment.table == "log_likelihood" else "5-layer models",
            [v.name for v in VARIANTS],
        ),
        "|---|" + "---|" * len(VARIANTS),
    ]
    if experiment.table == "active_units":
        lines.insert(4, "- Active unit: mean KL(q || p) over the test set > 0.01 nats.")
        for i in range(5):
            lines.append(
                _row(
                    f"active units, layer {i + 1}",
                    _cells(
                        results,
                        5,
                        lambda r, i=i: r["active_units"][i],
                        lambda v, i=i: experiment.paper_active_units[v][i],
                        0,
                    ),
                )
            )
        lines += [
            _row(
                "active units, total",
                _cells(results, 5, lambda r: sum(r["active_units"]), PAPER_ACTIVE_TOTALS.get, 0),
            ),
            _row(
                "test log-likelihood",
                _cells(
                    results,
                    5,
                    lambda r: r["log_likelihood"],
                    lambda v: paper_ll.get(v, {}).get(5),
                    experiment.digits,
                ),
            ),
            _row(
                "test ELBO",
                _cells(results, 5, lambda r: r["elbo"], lambda v: None, experiment.digits),
            ),
        ]
        return "\n".join(lines) + "\n"
    for n in sorted({layers for _, layers in results}):
        lines.append(
            _row(
                "-".join(map(str, PAPER_LATENT_DIMS[:n])),
                _cells(
                    results,
                    n,
                    lambda r: r["log_likelihood"],
                    lambda v, n=n: paper_ll.get(v, {}).get(n),
                    experiment.digits,
                ),
            )
        )
    return "\n".join(lines) + "\n"
