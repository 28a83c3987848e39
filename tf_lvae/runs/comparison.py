"""Several runs side by side: the test bounds they recorded against the epoch (the paper's
Fig. 4, one line per run) and their final numbers, as a Markdown table. Reads the runs'
records only (metrics.csv, evaluation-test.json or results.json): no TensorFlow."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tf_lvae.runs.run_dir import RunDir

TEST_BOUND = "test_log_likelihood"  # metrics.csv's column of the test IW bound


@dataclass(frozen=True)
class RunRecord:
    """What one run recorded: `metrics`, its metrics.csv columns (name -> [E], NaN where an
    epoch has no value), and `final`, its final test bound or None: the evaluation report's
    (evaluation-test.json) when there is one, else results.json's, as (log-likelihood in
    nats, K, where it is from)."""

    label: str
    metrics: dict[str, np.ndarray]
    final: tuple[float, int, str] | None

    def test_bounds(self) -> dict[int, float]:
        """epoch -> the test IW bound recorded after it (moving batch-norm statistics)."""
        values = self.metrics.get(TEST_BOUND, np.array([]))
        evaluated = np.isfinite(values)
        return dict(
            zip(
                self.metrics["epoch"][evaluated].astype(int).tolist(),
                values[evaluated],
                strict=True,
            )
        )


def read_record(path: str | Path, label: str) -> RunRecord:
    """The RunRecord of the run directory `path`; FileNotFoundError when it has no epoch."""
    run = RunDir(path)
    metrics = run.read_metrics()
    final = None
    report_path = run.evaluation_path("test")
    if report_path.is_file():
        report = json.loads(report_path.read_text())
        final = (report["log_likelihood"], report["iw_samples"], report_path.name)
    elif run.results_path.is_file():
        test = run.read_results()["test"]
        final = (test["log_likelihood"], test["iw_samples"], run.results_path.name)
    return RunRecord(label, metrics, final)


def markdown_table(records: Sequence[RunRecord], digits: int = 2) -> str:
    """A Markdown table with a column per run: the test IW bound at every epoch where any
    run recorded one, then each run's final bound with its K (the source's K differs from
    the monitor's)."""

    def cell(value: float | None) -> str:
        return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"

    bounds = [r.test_bounds() for r in records]
    epochs = sorted({e for b in bounds for e in b})
    lines = [
        "| epoch | " + " | ".join(r.label for r in records) + " |",
        "|---" * (len(records) + 1) + "|",
    ]
    lines += [f"| {e} | " + " | ".join(cell(b.get(e)) for b in bounds) + " |" for e in epochs]
    finals = [
        f"{cell(r.final[0])} (K = {r.final[1]}, {r.final[2]})" if r.final else "–" for r in records
    ]
    lines.append("| final | " + " | ".join(finals) + " |")
    return "\n".join(lines) + "\n"
