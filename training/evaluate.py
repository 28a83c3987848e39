"""python -m training.evaluate: the test log-likelihood and latent statistics of a trained run.

Writes a JSON report (default RUN_DIR/evaluation-SPLIT.json) holding:
  log_likelihood, elbo, iw_samples, examples, split   the IW bound with K samples and the
                                    ELBO (the K = 1 bound, estimated from the same samples)
  batch_norm_statistics             {"used": moving | recomputed | none, "description", ...}
  active_units                      {"threshold": 0.01, "per_layer": [L], "total"}
  kl_to_prior, kl_to_standard_normal    {"per_layer": [L], ...}: KL(q || p), KL(q || N(0, I))
  unit_kl_to_prior, unit_kl_to_standard_normal    per layer, the mean KL of every unit
  seconds                           batch_norm, log_likelihood, unit_kl, total
  settings, model, training, run_dir, model_file, epochs_trained, dataset, data_source
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tf_lvae.batch_norm_stats import BATCH_NORM_CHOICES
from tf_lvae.cli import ArgumentParser, positive_int, run_command
from tf_lvae.evaluation import SPLITS
from tf_lvae.run_dir import RunDir, write_json
from tf_lvae.run_report import EvaluationSettings, evaluate_run, evaluation_path


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="run directory of `python -m training.fit`")
    p.add_argument("--iw-samples", type=positive_int, default=5000, help="K (default 5000)")
    p.add_argument("--split", choices=SPLITS, default="test")
    p.add_argument(
        "--bn-stats",
        choices=BATCH_NORM_CHOICES,
        default="recomputed",
        help="batch-norm statistics: recomputed from one pass over the training set as the "
        "authors evaluated (default; a finished run's model.keras holds them), or the "
        "moving averages of training (from the latest checkpoint)",
    )
    p.add_argument("--examples", type=positive_int, help="only the first N examples of the split")
    p.add_argument("--seed", type=int, help="sampling seed (default: the run's seed)")
    p.add_argument("--batch-size", type=positive_int, default=500, help="speed only")
    p.add_argument("--no-xla", action="store_true", help="speed only: no XLA compilation")
    p.add_argument("--out", help="report file (default: RUN_DIR/evaluation-SPLIT.json)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = EvaluationSettings(
        iw_samples=args.iw_samples,
        split=args.split,
        batch_norm=args.bn_stats,
        seed=args.seed,
        examples=args.examples,
        batch_size=args.batch_size,
        jit_compile=not args.no_xla,
    )
    run = RunDir(args.run)
    report = evaluate_run(run.path, settings)
    out = Path(args.out) if args.out else evaluation_path(run, args.split)
    write_json(out, report)
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
