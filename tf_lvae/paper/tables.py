"""The markdown table of an experiment's results beside the paper's numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tf_lvae.config import AUTHORS_PIXEL_SCALE
from tf_lvae.constants import PAPER_LATENT_DIMS, PAPER_NUM_LAYERS, PAPER_TEST_IW_SAMPLES
from tf_lvae.paper.experiments import (
    PAPER_ACTIVE_TOTALS,
    PAPER_FINE_TUNING_EPOCHS,
    Experiment,
    applicable,
)
from tf_lvae.paper.settings import Budget
from tf_lvae.presets import preset


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace("-", "−")


Results = dict[tuple[str, int, str | None], dict[str, Any]]  # (variant, layers, fine-tuning)


def _cells(
    experiment: Experiment,
    results: Results,
    layers: int,
    ours: Callable[[dict[str, Any]], float],
    paper: Callable[[str], float | None],
    digits: int,
    fine_tuning: str | None = None,
) -> list[str]:
    """One cell per variant of the experiment at this depth (and fine-tuning): "ours (the
    paper's)", "not run", or "n/a"."""
    cells = []
    for v in experiment.variants:
        result = results.get((v.name, layers, fine_tuning))
        if not applicable(v, layers):
            cells.append("n/a")
        elif result is None:
            cells.append(f"not run ({_number(paper(v.name), digits)})")
        else:
            cells.append(f"{_number(ours(result), digits)} ({_number(paper(v.name), digits)})")
    return cells


def _row(label: str, cells: list[str]) -> str:
    return f"| {label} | " + " | ".join(cells) + " |"


def _settings_lines(experiment: Experiment, summary: dict[str, Any]) -> list[str]:
    """What was run and how: the budget, the models, the evaluation, the cell format."""
    budget = Budget(**summary["budget"])
    model, training = preset(experiment.dataset).model, preset(experiment.dataset).training
    s = summary["settings"]
    bn = (
        "recomputed from one pass over the training set (as the authors evaluated)"
        if s["batch_norm"] == "recomputed"
        else "the moving averages of training"
    )
    lines = [
        f"- Budget: {budget.describe()}.",
        f"- Models and training: the paper's for {experiment.dataset} (docs/method.md §6): "
        f"latent layers {'-'.join(map(str, model.latent_dims))} from the bottom (shallower "
        f"models drop the top ones), two-layer MLPs of "
        f"{'-'.join(map(str, model.hidden_dims))} units, {model.activation}; Adam, learning "
        f"rate {training.learning_rate}, batch {training.batch_size}, one sample per example.",
        f"- Test log-likelihood: the IW bound with K = {s['iw_samples']} (the paper: "
        f"{PAPER_TEST_IW_SAMPLES}) on the {summary['test_examples']:,} test examples of "
        f"{summary['dataset']} ({summary['data_source']}){_pixels(summary)}; batch-norm "
        f"statistics {bn}; "
        f"seed {s['seed']}.",
        "- Each cell: ours (the paper's). –: not reported by the paper; n/a: a 1-layer LVAE "
        "is a VAE; not run: not part of this reproduction.",
    ]
    if experiment.table == "active_units":
        lines.insert(2, "- Active unit: mean KL(q || p) over the test set > 0.01 nats.")
    if experiment.fine_tunings:
        lines.insert(
            2,
            "- Fine-tuning (each row below the first): the trained run continued from the "
            f"weights of its last checkpoint, {_optimizer_at_start(summary)}, with β = 1, the "
            "learning rate × 0.75 every tenth of the fine-tuning's epochs (the paper: "
            f"{PAPER_FINE_TUNING_EPOCHS} epochs, every 200) and the row's samples per example "
            "in the objective. Reduced budgets are the machine time this reproduction had; "
            "each row says its own.",
        )
    return lines


def _pixels(summary: dict[str, Any]) -> str:
    """How the grey values were binarized, where the summary records it."""
    scale = summary.get("pixel_scale")
    if scale is None:
        return ""
    whose = "the authors' MNIST" if scale == AUTHORS_PIXEL_SCALE else "the tfds convention"
    return f", binarized from byte/{scale} ({whose})"


def _optimizer_at_start(summary: dict[str, Any]) -> str:
    """What the fine-tunings' records say of Adam's state at their start (`started_from`)."""
    starts = [r.get("started_from") for r in summary["runs"] if r["fine_tuning"]]
    steps = {None if start is None else start["optimizer_steps"] > 0 for start in starts}
    if steps == {True}:
        return "with Adam's state (its moments and step count)"
    if steps == {False}:
        return "with a new Adam optimizer (that checkpoint held none: moments and step count zero)"
    if steps == {None} or not steps:
        return (
            "Adam's state at the start not recorded by these runs (made before tf_lvae recorded it)"
        )
    return "Adam's state continued in some runs, new in others (each run's started_from.json)"


def _active_unit_rows(
    experiment: Experiment, results: Results, summary: dict[str, Any]
) -> list[str]:
    """Table 2: active units per layer and in total, then the test bounds, of the models
    with PAPER_NUM_LAYERS latent layers."""
    depth, paper_ll = PAPER_NUM_LAYERS, experiment.paper_log_likelihood
    rows = [
        _row(
            f"active units, layer {i + 1}",
            _cells(
                experiment,
                results,
                depth,
                lambda r, i=i: r["active_units"][i],
                lambda v, i=i: experiment.paper_active_units[v][i],
                0,
            ),
        )
        for i in range(depth)
    ]
    return [
        *rows,
        _row(
            "active units, total",
            _cells(
                experiment,
                results,
                depth,
                lambda r: sum(r["active_units"]),
                PAPER_ACTIVE_TOTALS.get,
                0,
            ),
        ),
        _row(
            "test log-likelihood",
            _cells(
                experiment,
                results,
                depth,
                lambda r: r["log_likelihood"],
                lambda v: paper_ll.get(v, {}).get(depth),
                experiment.digits,
            ),
        ),
        _row(
            "test ELBO",
            _cells(
                experiment, results, depth, lambda r: r["elbo"], lambda v: None, experiment.digits
            ),
        ),
    ]


def _log_likelihood_rows(
    experiment: Experiment, results: Results, summary: dict[str, Any]
) -> list[str]:
    """Figure 3 / Table 3: the test log-likelihood of every depth that was run."""
    paper_ll = experiment.paper_log_likelihood
    return [
        _row(
            "-".join(map(str, PAPER_LATENT_DIMS[:n])),
            _cells(
                experiment,
                results,
                n,
                lambda r: r["log_likelihood"],
                lambda v, n=n: paper_ll.get(v, {}).get(n),
                experiment.digits,
            ),
        )
        for n in sorted({layers for _, layers, _ in results})
    ]


def _fine_tuning_rows(
    experiment: Experiment, results: Results, summary: dict[str, Any]
) -> list[str]:
    """Table 1: the test log-likelihood of each model trained (the experiment's depth), then
    after each fine-tuning, with the budget of each."""
    budget = Budget(**summary["budget"])
    paper_ll = experiment.paper_log_likelihood
    depth = max(experiment.layers)

    def row(label: str, paper: Callable[[str], float | None], fine_tuning: str | None) -> str:
        return _row(
            label,
            _cells(
                experiment,
                results,
                depth,
                lambda r: r["log_likelihood"],
                paper,
                experiment.digits,
                fine_tuning,
            ),
        )

    epochs = summary["fine_tuning_epochs"]
    return [
        row(
            f"none ({budget.epochs} of the paper's {budget.paper_epochs} epochs)",
            lambda v: paper_ll.get(v, {}).get(depth),
            None,
        ),
        *(
            row(
                f"{f.name} ({epochs[f.slug]} of the paper's {PAPER_FINE_TUNING_EPOCHS} more "
                "epochs)",
                lambda v, f=f: experiment.paper_fine_tuned.get(v, {}).get(f.slug),
                f.slug,
            )
            for f in experiment.fine_tunings
        ),
    ]


def _bits_per_dim(experiment: Experiment, results: Results) -> tuple[list[str], list[str]]:
    """(a line saying what they are for each kind present, a row per depth): the test
    bits/dim of the trained models that report them (8-bit data); none when none does.
    The paper reports none."""
    reported = [
        r
        for r in results.values()
        if r.get("bits_per_dim") is not None and not r.get("fine_tuning")
    ]
    if not reported:
        return [], []
    notes = [
        f"- bits/dim: (−LL + D log {s}) / (D log 2) for D pixels, with the dequantization "
        f"x = (k + u) / {s}: an upper bound on the bits per dimension of the 8-bit test "
        "images (docs/method.md §5)."
        if s is not None
        else "- bits/dim: −LL / (D log 2) for D pixels: the IW bound of the 8-bit test "
        "images' own log P(x) (a discrete likelihood of their levels, docs/method.md §8)."
        for s in dict.fromkeys(r.get("dequantization_scale") for r in reported)
    ]
    return notes, [
        _row(
            f"{'-'.join(map(str, PAPER_LATENT_DIMS[:n]))}: bits/dim",
            _cells(experiment, results, n, lambda r: r.get("bits_per_dim"), lambda v: None, 3),
        )
        for n in sorted({r["layers"] for r in reported})
    ]


def markdown(experiment: Experiment, summary: dict[str, Any]) -> str:
    """The experiment's results as markdown: what was run and how, then the table with
    one column per variant, each cell "ours (the paper's)"."""
    results = {(r["variant"], r["layers"], r.get("fine_tuning")): r for r in summary["runs"]}
    rows, label = {
        "active_units": (_active_unit_rows, f"{PAPER_NUM_LAYERS}-layer models"),
        "log_likelihood": (_log_likelihood_rows, "latent layers"),
        "fine_tuning": (_fine_tuning_rows, f"{PAPER_NUM_LAYERS}-layer models, fine-tuning"),
    }[experiment.table]
    variants = experiment.variants
    bits_notes, bits_rows = _bits_per_dim(experiment, results)
    lines = [
        f"## {experiment.title}",
        "",
        *_settings_lines(experiment, summary),
        *bits_notes,
        "",
        _row(label, [v.name for v in variants]),
        "|---|" + "---|" * len(variants),
        *rows(experiment, results, summary),
        *bits_rows,
    ]
    return "\n".join(lines) + "\n"
