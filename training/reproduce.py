"""python -m training.reproduce: train, evaluate and tabulate one of the paper's experiments.

Trains the paper's variants (VAE, VAE+BN, VAE+BN+WU, LVAE+BN+WU) at the depths the
experiment asks, one run directory each under --out, evaluates them identically and
writes OUT/EXPERIMENT.md with the table beside the paper's numbers (docs/method.md §6), plus
OUT/EXPERIMENT.json (every number) and, for log-likelihood experiments, OUT/EXPERIMENT.png.
Rerun the same command to continue: finished runs are skipped, interrupted ones resume.

  table2           active units of the 5-layer MNIST models (Table 2)
  figure3          MNIST test log-likelihood against 1-5 latent layers (Fig. 3)
  table3-omniglot  OMNIGLOT test log-likelihood, 1-5 latent layers (Table 3)
  table3-norb      NORB test log-likelihood, 1-5 latent layers (Table 3)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tf_lvae.batch_norm_stats import BATCH_NORM_CHOICES
from tf_lvae.cli import ArgumentParser, non_negative_int, positive_int, run_command
from tf_lvae.experiments import EXPERIMENTS, ReproduceSettings, get_experiment, get_variant
from tf_lvae.reproduction import run_experiment


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
        help="training epochs of every run (default: the paper's); the warm-up is scaled "
        "in proportion (the paper: 200 of 2000 epochs for MNIST, 1000 of 4000 for NORB)",
    )
    p.add_argument("--iw-samples", type=positive_int, default=5000, help="K of the final test")
    p.add_argument("--layers", type=layer_list, help="only these depths, e.g. 5 or 1-3")
    p.add_argument("--variants", help="only these variants, e.g. VAE+BN+WU,LVAE+BN+WU")
    p.add_argument("--out", help="folder of the runs and tables (default: runs/reproduce-DATASET)")
    p.add_argument("--data-dir", help="folder with the dataset's files (see training.fit)")
    p.add_argument("--dataset", help="another dataset than the experiment's, e.g. mnist-sample")
    p.add_argument(
        "--bn-stats",
        choices=BATCH_NORM_CHOICES,
        default="recomputed",
        help="batch-norm statistics of the evaluation (default: recomputed, as the authors)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--eval-every", type=positive_int, help="test IW bound every N epochs")
    p.add_argument("--eval-iw-samples", type=positive_int, default=100)
    p.add_argument("--unit-kl-examples", type=non_negative_int, default=1000)
    p.add_argument("--no-xla", action="store_true", help="speed only: no XLA compilation")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    experiment = get_experiment(args.experiment)
    variants = (
        [get_variant(name.strip()) for name in args.variants.split(",")] if args.variants else None
    )
    settings = ReproduceSettings(
        epochs=args.epochs,
        iw_samples=args.iw_samples,
        batch_norm=args.bn_stats,
        dataset=args.dataset,
        data_dir=args.data_dir,
        seed=args.seed,
        eval_every=args.eval_every,
        eval_iw_samples=args.eval_iw_samples,
        unit_kl_examples=args.unit_kl_examples,
        jit_compile=not args.no_xla,
    )
    dataset = args.dataset or experiment.dataset
    out = args.out or f"runs/reproduce-{dataset.replace(':', '-').replace('/', '_')}"
    run_experiment(experiment, out, settings, layers=args.layers, variants=variants)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
