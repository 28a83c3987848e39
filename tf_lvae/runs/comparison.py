"""Several runs side by side: the test bounds they recorded against the epoch (the paper's
Fig. 4, one line per run) and their final numbers, as a Markdown table. Reads the runs'
records only (metrics.csv, evaluation-test.json or results.json): no TensorFlow."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tf_lvae.runs.run_dir import RecordDamaged, RunDir

TEST_BOUND = "test_log_likelihood"  # metrics.csv's column of the test IW bound


@dataclass(frozen=True)
class FinalBound:
    """A run's final test bound: `log_likelihood` (nats) with K = `iw_samples`, after
    `epochs` epochs, from the file `source`."""

    log_likelihood: float
    iw_samples: int
    epochs: int
    source: str


@dataclass(frozen=True)
class RunRecord:
    """What one run recorded: `metrics`, its metrics.csv columns (name -> [E], NaN where an
    epoch has no value; "epoch" and TEST_BOUND always present), and `final`, its final test
    bound or None: the evaluation report's (evaluation-test.json) when there is one, else
    results.json's."""

    label: str
    metrics: dict[str, np.ndarray]
    final: FinalBound | None

    def test_bounds(self) -> dict[int, float]:
        """epoch -> the test IW bound recorded after it (moving batch-norm statistics)."""
        values = self.metrics[TEST_BOUND]
        evaluated = np.isfinite(values)
        epochs = self.metrics["epoch"][evaluated].astype(int).tolist()
        return dict(zip(epochs, values[evaluated].tolist(), strict=True))


def read_record(path: str | Path, label: str) -> RunRecord:
    """The RunRecord of the run directory `path`. Raises FileNotFoundError when it has no
    metrics.csv, RecordDamaged when a record holds no epoch or cannot be read."""
    run = RunDir(path)
    metrics = run.read_metrics()
    if "epoch" not in metrics or not len(metrics["epoch"]):
        raise RecordDamaged(
            f"{run.metrics_path} holds no epoch; leave the run out or wait for its first epoch"
        )
    metrics.setdefault(TEST_BOUND, np.full_like(metrics["epoch"], np.nan))
    return RunRecord(label, metrics, _final_bound(run))


def _final_bound(run: RunDir) -> FinalBound | None:
    try:
        report = run.read_evaluation("test")
        if report is not None:
            values = report["log_likelihood"], report["iw_samples"], report["epochs_trained"]
            return FinalBound(*values, run.evaluation_path("test").name)
        if run.results_path.is_file():
            results = run.read_results()
            test = results["test"]
            values = test["log_likelihood"], test["iw_samples"], results["epochs"]
            return FinalBound(*values, run.results_path.name)
    except (ValueError, KeyError, TypeError) as err:
        raise RecordDamaged(
            f"the final test bound of {run.path} cannot be read ({err!r}); evaluate the run "
            f"again (python -m training.evaluate --run {run.path} --overwrite) or leave it out"
        ) from err
    return None


def markdown_table(records: Sequence[RunRecord], digits: int = 2) -> str:
    """A Markdown table with a column per run: the test IW bound at every epoch where any
    run recorded one, then each run's final bound with its K and epoch (a final bound made
    before a run's last epoch shows that epoch)."""

    def cell(value: float | None) -> str:
        return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"

    def final(r: RunRecord) -> str:
        f = r.final
        return (
            "–"
            if f is None
            else f"{cell(f.log_likelihood)} (K = {f.iw_samples}, epoch {f.epochs}, {f.source})"
        )

    bounds = [r.test_bounds() for r in records]
    epochs = sorted({e for b in bounds for e in b})
    labels = [r.label.replace("|", r"\|") for r in records]
    lines = ["| epoch | " + " | ".join(labels) + " |", "|---" * (len(records) + 1) + "|"]
    lines += [f"| {e} | " + " | ".join(cell(b.get(e)) for b in bounds) + " |" for e in epochs]
    lines.append("| final | " + " | ".join(final(r) for r in records) + " |")
    return "\n".join(lines) + "\n"
