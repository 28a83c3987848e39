"""python -m training.compare: several runs' test bounds against the epoch, side by side.

Writes OUT (a PNG: each run's test IW bound and training ELBO against the epoch, the
paper's Fig. 4 for several runs) and OUT with the suffix .md (a Markdown table: the test IW
bound at every epoch a run recorded one, then each run's final bound and its K), and prints
the table. Reads the runs' records only; the runs may be unfinished.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tf_lvae.cli import ArgumentParser, run_command, run_folder
from tf_lvae.runs.comparison import markdown_table, read_record
from tf_lvae.runs.run_dir import check_new_report, write_atomic


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m training.compare", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=run_folder, help="run directories of training.fit")
    p.add_argument(
        "--labels",
        type=lambda text: text.split(","),
        help="comma-separated names of the runs, in order, each its own and not empty "
        "(default: their folders as given)",
    )
    p.add_argument("--out", type=Path, required=True, help="the figure, a .png file")
    p.add_argument("--overwrite", action="store_true", help="replace OUT and its .md if they exist")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    labels = args.labels or args.runs
    if len(labels) != len(args.runs):
        raise ValueError(
            f"--labels names {len(labels)} runs but {len(args.runs)} were given; give one "
            "label a run"
        )
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated or "" in labels:
        given = "--labels names" if args.labels else "the runs name"
        what = f"{given} {repeated[0]} twice" if repeated else "--labels holds an empty label"
        raise ValueError(f"{what}; give each run its own label (--labels)")
    if args.out.suffix.lower() != ".png":
        raise ValueError(f"--out {args.out} is not a .png file name; give e.g. figure4.png")
    table_path = args.out.with_suffix(".md")
    for path in (args.out, table_path):
        check_new_report(path, args.overwrite)
    records = [read_record(run, label) for run, label in zip(args.runs, labels, strict=True)]
    from tf_lvae.evaluation.figures import run_curves  # matplotlib starts here

    curves = {r.label: r.metrics for r in records}
    write_atomic(args.out, lambda tmp: run_curves(curves, tmp))
    table = markdown_table(records)
    write_atomic(table_path, lambda tmp: tmp.write_text(table))
    print(table, end="")
    print(f"-> {args.out}\n-> {table_path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
