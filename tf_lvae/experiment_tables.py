"""The markdown table of an experiment's results beside the paper's numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tf_lvae.config import PAPER_LATENT_DIMS, preset
from tf_lvae.experiments import (
    PAPER_ACTIVE_TOTALS,
    VARIANTS,
    Budget,
    Experiment,
    applicable,
)


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
        f"- Models and training: the paper's for {experiment.dataset} (docs/method.md §6): latent "
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
