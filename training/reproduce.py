"""python -m training.reproduce: train, evaluate and tabulate one of the paper's experiments.

Trains the paper's variants (VAE, VAE+BN, VAE+BN+WU, LVAE+BN+WU) at the depths the
experiment asks, one run directory each under --out, evaluates them identically and
writes OUT/EXPERIMENT.md with the table beside the paper's numbers (docs/method.md §6), plus
OUT/EXPERIMENT.json (every number) and, for log-likelihood experiments, OUT/EXPERIMENT.png.
Rerun the same command to continue: finished runs are skipped, interrupted ones resume.

  table1           the 5-layer MNIST models fine-tuned four ways (Table 1)
  table2           active units of the 5-layer MNIST models (Table 2)
  figure3          MNIST test log-likelihood against 1-5 latent layers (Fig. 3)
  table3-omniglot  OMNIGLOT test log-likelihood, 1-5 latent layers (Table 3)
  table3-norb      NORB test log-likelihood, 1-5 latent layers (Table 3)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tf_lvae.cli import (
    ArgumentParser,
    add_field_options,
    add_no_xla,
    add_verbose,
    begin,
    default_of,
    given_fields,
    int_list,
    interruption_note,
    non_negative_int,
    positive_int,
    run_command,
)
from tf_lvae.config import AUTHORS_PIXEL_SCALE, BATCH_NORM_CHOICES, PIXEL_SCALES
from tf_lvae.data.datasets import dataset_slug
from tf_lvae.paper.experiments import (
    EXPERIMENTS,
    FINE_TUNINGS,
    get_experiment,
    get_fine_tuning,
    get_variant,
    plan,
)
from tf_lvae.paper.settings import ReproduceSettings
from tf_lvae.runs.run_dir import check_writable

T = TypeVar("T")


def layer_list(text: str) -> tuple[int, ...]:
    """argparse type: latent-layer counts such as 5, 1-3 or 1,3,5."""
    layers: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            layers += range(int(low), int(high or low) + 1)
    except ValueError:
        layers = []
    if not layers:
        raise argparse.ArgumentTypeError(f"expected layers like 5, 1-3 or 1,3,5, got {text!r}")
    return tuple(sorted(set(layers)))


def named_list(text: str | None, get: Callable[[str], T]) -> list[T] | None:
    """The items a comma-separated option names, looked up with `get` (which raises
    ValueError for an unknown name); None when the option was not given."""
    return [get(name.strip()) for name in text.split(",")] if text else None


GIVEN = argparse.SUPPRESS  # options not given keep ReproduceSettings' defaults


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m training.reproduce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--experiment", required=True, help=", ".join(EXPERIMENTS))
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=GIVEN,
        help="training epochs of every run (default: the paper's); the warm-up is scaled "
        "in proportion (the paper: 200 of 2000 epochs for MNIST, 1000 of 4000 for NORB)",
    )
    p.add_argument(
        "--fine-tuning-epochs",
        type=int_list,
        default=GIVEN,
        metavar="N[,N,N,N]",
        help="table1: the epochs of each fine-tuning (annealed lr, MC = 10, IW = 10, MC = 10 "
        "and IW = 10), or one number for all; multiples of 10, the learning rate falling "
        "every tenth (default: the paper's 2000)",
    )
    p.add_argument(
        "--iw-samples",
        type=positive_int,
        default=GIVEN,
        help=f"K of the final test (default {default_of(ReproduceSettings, 'iw_samples')})",
    )
    p.add_argument("--layers", type=layer_list, help="only these depths, e.g. 5 or 1-3")
    p.add_argument("--variants", help="only these variants, e.g. VAE+BN+WU,LVAE+BN+WU")
    p.add_argument(
        "--fine-tunings",
        help="table1: only these fine-tunings (after their trained runs), by slug: "
        + ", ".join(f.slug for f in FINE_TUNINGS),
    )
    p.add_argument("--out", help="folder of the runs and tables (default: runs/reproduce-DATASET)")
    p.add_argument(
        "--data-dir", default=GIVEN, help="folder with the dataset's files (see training.fit)"
    )
    p.add_argument(
        "--dataset", default=GIVEN, help="another dataset than the experiment's, e.g. mnist-sample"
    )
    p.add_argument(
        "--bn-stats",
        dest="batch_norm",
        choices=BATCH_NORM_CHOICES,
        default=GIVEN,
        help="batch-norm statistics of the evaluation (default: recomputed, as the authors)",
    )
    p.add_argument("--seed", type=non_negative_int, default=GIVEN, help="default 0")
    p.add_argument(
        "--pixel-scale",
        type=int,
        choices=PIXEL_SCALES,
        default=GIVEN,
        help=f"binarized 8-bit images: draw each pixel from byte/{AUTHORS_PIXEL_SCALE} (the "
        "authors' MNIST, the default for the MNIST experiments) or byte/255",
    )
    p.add_argument(
        "--eval-every", type=positive_int, default=GIVEN, help="test IW bound every N epochs"
    )
    add_field_options(
        p,
        ReproduceSettings,
        [("eval_iw_samples", positive_int, ""), ("unit_kl_examples", non_negative_int, "")],
    )
    add_no_xla(p)
    add_verbose(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    experiment = get_experiment(args.experiment)
    variants = named_list(args.variants, get_variant)
    fine_tunings = named_list(args.fine_tunings, get_fine_tuning)
    plan(experiment, args.layers, variants, fine_tunings)  # wrong choices fail before TensorFlow
    settings = ReproduceSettings(**given_fields(args, ReproduceSettings))
    out = args.out or f"runs/reproduce-{dataset_slug(settings.dataset or experiment.dataset)}"
    check_writable(Path(out), "folder", "--out")
    begin(f"reproducing {experiment.name} into {out}", args.verbose)
    with interruption_note(lambda: "rerun the same command to continue: finished runs are kept"):
        from tf_lvae.paper.runner import run_experiment  # TensorFlow starts here

        run_experiment(
            experiment,
            out,
            settings,
            layers=args.layers,
            variants=variants,
            fine_tunings=fine_tunings,
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
