"""python -m training.combine_evaluations: one evaluation report from reports of its parts.

The parts are `python -m training.evaluate --examples START:END` reports of one run (they
may come from different machines or sessions) that together cover the split once; the
result is the report the whole split's evaluation writes, up to float rounding, with
`combined_from` listing the parts (tf_lvae/runs/report_parts.py). Default output: the
folder of the first part, evaluation-SPLIT.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tf_lvae.cli import ArgumentParser, add_verbose, begin, run_command
from tf_lvae.config import pixel_scale_name
from tf_lvae.runs.report_parts import REQUIRED, combine_reports
from tf_lvae.runs.run_dir import RunDir, check_writable, write_json


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
    add_verbose(p)
    return p


def read_part(path: Path) -> dict[str, Any]:
    """A part's report; ValueError naming the file when it is not one or cannot combine."""
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
    if not all(isinstance(report[key], float) for key in ("log_likelihood", "elbo")):
        raise ValueError(
            f"{path} records a log-likelihood or ELBO that is not finite; this part cannot "
            "be combined (evaluate the model again once it is fixed)"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    parts = [read_part(path) for path in args.parts]
    scale = pixel_scale_name(parts[0]["settings"].get("pixel_scale"))
    out = args.out or RunDir(args.parts[0].parent).evaluation_path(parts[0]["split"], scale)
    check_writable(out, "file", "--out")
    begin(f"combining {len(parts)} evaluation reports into {out}", args.verbose)
    report = combine_reports(parts)  # TensorFlow starts once the parts are checked
    from tf_lvae.runs.report import summary

    write_json(out, report)
    print(summary(report))
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
