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
from collections.abc import Callable, Sequence
from typing import Any

from tf_lvae.cli import ArgumentParser, int_in, run_command
from tf_lvae.data.splits import load_run_data, test_images
from tf_lvae.evaluation import figures
from tf_lvae.evaluation.analysis import (
    ACTIVE_THRESHOLD,
    layer_totals,
    mean_unit_kls,
    pca,
    posterior_samples,
)
from tf_lvae.evaluation.batch_norm import BATCH_NORM_CHOICES, set_batch_norm_statistics
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.run_dir import RecordDamaged, RunDir, check_writable

MAX_EXAMPLES = 100_000  # test examples of the analysis figures
MAX_SAMPLES = 1_000  # images of one sample grid


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m training.plots", description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="run directory of `python -m training.fit`")
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
    p.add_argument("--seed", type=int, default=0)
    return p


def read_record(read: Callable, figure: str) -> Any:
    """What read() returns, or None when the record is missing (said on stdout) or damaged
    (a warning on stderr): the figure that needs it is skipped."""
    try:
        return read()
    except FileNotFoundError as err:
        print(f"skipping {figure}: {err}")
    except RecordDamaged as err:
        print(f"warning: skipping {figure}: {err}", file=sys.stderr)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run = RunDir(args.run)
    config = run.read_config()
    check_writable(run.plots_dir, "folder", "--run (its plots/ folder)")
    unit_kl = read_record(run.read_unit_kl, "Fig. 5 (unit_kl.png)")
    metrics = read_record(run.read_metrics, "Fig. 4 (bounds.png)")
    model = load_run_model(run.path, "latest" if args.bn_stats == "moving" else "final")
    data = load_run_data(config)
    set_batch_norm_statistics(model, data, config, args.bn_stats, args.seed)
    out = run.plots_dir
    x = test_images(data)[: args.examples]
    labels = None if data.y_test is None else data.y_test[: len(x)]
    layers = config.model.num_layers
    written = [
        figures.image_grid(
            model.sample(args.samples, seed=args.seed).numpy(),
            out / "prior_samples.png",
            "Samples from the prior",
        ),
        figures.reconstructions(
            x[:30], model.reconstruct(x[:30]).numpy(), out / "reconstructions.png"
        ),
        figures.layer_samples(
            [model.sample(10, from_layer=i, seed=args.seed).numpy() for i in range(1, layers + 1)],
            out / "layer_samples.png",
        ),
    ]
    kls = mean_unit_kls(model, x, seed=args.seed)
    written.append(
        figures.layer_kl_bars(
            layer_totals(kls.prior), layer_totals(kls.standard_normal), out / "layer_kl.png"
        )
    )
    projections = [pca(z) for z in posterior_samples(model, x, seed=args.seed)]
    written.append(
        figures.pca_scatter(
            [p.points for p in projections],
            [p.explained for p in projections],
            labels,
            out / "pca.png",
        )
    )
    if unit_kl is not None:
        written.append(figures.unit_kl_heatmaps(*unit_kl, out / "unit_kl.png", ACTIVE_THRESHOLD))
    if metrics is not None:
        written.append(figures.bound_curves(metrics, out / "bounds.png"))
    for path in written:
        print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
