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

from tf_lvae.cli import ArgumentParser, add_verbose, begin, run_command
from tf_lvae.runs.run_dir import check_writable, write_json


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m training.combine_evaluations", description=__doc__.split("\n")[0]
    )
    p.add_argument("parts", nargs="+", type=Path, help="reports of training.evaluate")
    p.add_argument(
        "--out", type=Path, help="report file (default: FIRST_PART_FOLDER/evaluation-SPLIT.json)"
    )
    add_verbose(p)
    return p


def read_part(path: Path) -> dict:
    """A part's report; ValueError naming the file when it is not one."""
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a JSON report ({error})") from None
    if not isinstance(report, dict) or "split_examples" not in report:
        raise ValueError(
            f"{path} is not a report of `python -m training.evaluate --examples START:END` "
            "(it has no split_examples)"
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    parts = [read_part(path) for path in args.parts]
    out = args.out or args.parts[0].parent / f"evaluation-{parts[0]['split']}.json"
    check_writable(out, "file", "--out")
    begin(f"combining {len(parts)} evaluation reports into {out}", args.verbose)
    from tf_lvae.runs.report import summary  # TensorFlow starts here
    from tf_lvae.runs.report_parts import combine_reports

    report = combine_reports(parts)
    write_json(out, report)
    print(summary(report))
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
