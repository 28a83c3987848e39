"""python -m training.plots: the paper's analysis figures of a trained run, as PNG files.

Writes into RUN_DIR/plots:
  prior_samples.png     samples from the prior p(z_L) passed down the generative model
  reconstructions.png   test examples and the means of p(x | z) at their posterior
  layer_samples.png     samples injecting z* ~ N(0, I) at each layer (Fig. 6b)
  unit_kl.png           log KL(q || p) of every unit across the epochs (Fig. 5)
  layer_kl.png          per layer, KL to the prior and to N(0, I) (Fig. 6a)
  pca.png               2-D PCA of samples of q(z_i | x), coloured by class (Fig. 7)
  bounds.png            train and test bounds against the epoch (Fig. 4)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tf_lvae.cli import (
    ArgumentParser,
    add_verbose,
    begin,
    int_in,
    non_negative_int,
    run_command,
    run_parser,
)
from tf_lvae.config import BATCH_NORM_CHOICES
from tf_lvae.runs.run_dir import RunDir, check_writable

MAX_EXAMPLES = 100_000  # test examples of the analysis figures
MAX_SAMPLES = 1_000  # images of one sample grid


def build_parser() -> ArgumentParser:
    p = run_parser("python -m training.plots", __doc__.split("\n")[0])
    p.add_argument(
        "--examples",
        type=int_in(2, MAX_EXAMPLES),
        default=5000,
        help=f"test examples for Figs. 6a and 7, 2..{MAX_EXAMPLES:,} (default 5000)",
    )
    p.add_argument(
        "--samples",
        type=int_in(1, MAX_SAMPLES),
        default=100,
        help=f"images of the prior-sample grid, 1..{MAX_SAMPLES} (default 100)",
    )
    p.add_argument(
        "--bn-stats",
        choices=BATCH_NORM_CHOICES,
        default="recomputed",
        help="batch-norm statistics (default: recomputed, as the authors; see training.evaluate)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="default 0")
    add_verbose(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = RunDir(args.run)
    run.read_config()
    check_writable(run.plots_dir, "folder", "--run (its plots/ folder)")
    begin(f"drawing the figures of {run.path} into {run.plots_dir}", args.verbose)
    from tf_lvae.runs.plots import draw_run_figures  # TensorFlow starts here

    paths = draw_run_figures(
        run, args.examples, args.samples, args.bn_stats, args.seed, args.data_dir
    )
    for path in paths:
        print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
