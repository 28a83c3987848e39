"""python -m training.combine_evaluations: one evaluation report from reports of its parts.

The parts are `python -m training.evaluate --examples START:END` reports of one run (they
may come from different machines or sessions) that together cover the split once; the
result is the report the whole split's evaluation writes, up to float rounding, with
`combined_from` listing the parts (tf_lvae/runs/report_parts.py). Default output: the
folder of the first part, evaluation-SPLIT.json. It never writes over a part, nor over an
existing report unless given --overwrite.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tf_lvae.cli import ArgumentParser, add_verbose, begin, run_command
from tf_lvae.config import PIXEL_VALUES
from tf_lvae.evaluation.settings import pixel_scale_name
from tf_lvae.runs.report_parts import REQUIRED, combine_reports
from tf_lvae.runs.run_dir import RunDir, check_new_report, write_json


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m training.combine_evaluations", description=__doc__.split("\n")[0]
    )
    p.add_argument("parts", nargs="+", type=Path, help="reports of training.evaluate")
    p.add_argument(
        "--out",
        type=Path,
        help="report file (default: FIRST_PART_FOLDER/evaluation-SPLIT.json, or "
        "evaluation-SPLIT-pixel-scale-N.json for parts evaluated at another pixel scale than "
        "their run's)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace the report file if it exists")
    add_verbose(p)
    return p


def read_part(path: Path) -> dict[str, Any]:
    """A part's report; ValueError naming the file when it is not one or cannot combine."""
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the report files of the parts")
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a JSON report ({error})") from None
    missing = [key for key in REQUIRED if key not in report] if isinstance(report, dict) else []
    if not isinstance(report, dict) or missing:
        raise ValueError(
            f"{path} is not a report of `python -m training.evaluate --examples START:END` "
            f"of this version (it has no {', '.join(missing) or 'fields'})"
        )
    problem = bound_problem(report)
    if problem:
        raise ValueError(f"{path}: {problem}; this part cannot be combined")
    return report


def bound_problem(report: dict[str, Any]) -> str | None:
    """What is wrong with a report's bounds, or None: each must be a finite number, the ELBO
    at most the IW bound (Jensen's inequality, on the same samples), and the IW bound at most
    0 for a model of binary images or of 8-bit levels (log-probabilities; a Gaussian's
    densities may be positive)."""
    values = [report[key] for key in ("log_likelihood", "elbo")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return f"its log-likelihood and ELBO are not numbers ({values[0]!r}, {values[1]!r})"
    if not all(math.isfinite(v) for v in values):
        return "it records a log-likelihood or ELBO that is not finite (evaluate the model again)"
    log_likelihood, elbo = values
    if elbo > log_likelihood + 1e-3:
        return f"its ELBO {elbo} is above its IW bound {log_likelihood}, which cannot be"
    if report["model"].get("likelihood") in PIXEL_VALUES and log_likelihood > 0:
        return (
            f"its log-likelihood {log_likelihood} is positive, impossible for a probability of "
            "discrete images"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    parts = [read_part(path) for path in args.parts]
    scale = pixel_scale_name(parts[0]["settings"].get("pixel_scale"))
    out = args.out or RunDir(args.parts[0].parent).evaluation_path(parts[0]["split"], scale)
    if any(out.resolve() == part.resolve() for part in args.parts):
        raise ValueError(f"{out} is one of the parts; give the combined report another --out")
    check_new_report(out, args.overwrite)
    begin(f"combining {len(parts)} evaluation reports into {out}", args.verbose)
    report = combine_reports(parts)  # TensorFlow starts once the parts are checked
    from tf_lvae.runs.report import summary

    write_json(out, report)
    print(summary(report))
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
