"""python -m training.evaluate: the test log-likelihood and latent statistics of a trained run.

Writes a JSON report (default RUN_DIR/evaluation-SPLIT.json; evaluation-SPLIT-examples-
START-END.json for a part, which `training.combine_evaluations` joins; -pixel-scale-N
before -examples at another pixel scale than the run's) holding:
  log_likelihood, elbo, iw_samples, examples, split   the IW bound with K samples and the
                                    ELBO (the K = 1 bound, estimated from the same samples)
  split_examples                    the examples of the whole split
  batch_norm_statistics             {"used": moving | recomputed | none, "description", ...}
  active_units                      {"threshold": 0.01, "per_layer": [L], "total"}
  kl_to_prior, kl_to_standard_normal    {"per_layer": [L], ...}: KL(q || p), KL(q || N(0, I))
  unit_kl_to_prior, unit_kl_to_standard_normal    per layer, the mean KL of every unit
  seconds                           batch_norm, log_likelihood, unit_kl, total
  settings, model, training, run_dir, model_file, epochs_trained, dataset, data_source
  model_sha256, weights_sha256      sha256 of the model file scored (a checkpoint's
                                    variables.npz), and of its weights as scored
  pixel_scale                       binarized 8-bit images were drawn from byte/pixel_scale
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from tf_lvae.cli import (
    ArgumentParser,
    add_no_xla,
    add_verbose,
    begin,
    default_of,
    given_fields,
    non_negative_int,
    positive_int,
    run_command,
    run_parser,
)
from tf_lvae.config import BATCH_NORM_CHOICES, PIXEL_SCALES, SPLITS
from tf_lvae.errors import TrainingFailed
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.runs.run_dir import RunDir, check_new_report, write_json

GIVEN = argparse.SUPPRESS  # options not given keep EvaluationSettings' defaults


def parse_example_range(text: str) -> tuple[int, int | None]:
    """argparse type of --examples: 'N' or 'START:END' or 'START:' -> (first example, count
    or None for all to the end)."""
    start, colon, end = text.partition(":")
    if not colon:
        return 0, positive_int(text)
    first = non_negative_int(start)
    if not end:
        return first, None
    last = non_negative_int(end)
    if last <= first:
        raise argparse.ArgumentTypeError(f"{text!r} is empty: END must be greater than START")
    return first, last - first


def build_parser() -> ArgumentParser:
    p = run_parser("python -m training.evaluate", __doc__.split("\n")[0])
    p.add_argument(
        "--iw-samples",
        type=positive_int,
        default=GIVEN,
        help=f"K (default {default_of(EvaluationSettings, 'iw_samples')})",
    )
    p.add_argument("--split", choices=SPLITS, default=GIVEN, help="default: test")
    p.add_argument(
        "--bn-stats",
        dest="batch_norm",
        choices=BATCH_NORM_CHOICES,
        default=GIVEN,
        help="batch-norm statistics: recomputed from one pass over the training set as the "
        "authors evaluated (default; a finished run's model.keras holds them), or the "
        "moving averages of training (from the latest checkpoint)",
    )
    p.add_argument(
        "--examples",
        dest="example_range",
        type=parse_example_range,
        help="N: only the first N examples; START:END (or START: to the end): a part of the "
        "split, START and END multiples of --batch-size (END may be the split's end), which "
        "draws the samples the whole split's evaluation draws there, so that parts combine "
        "exactly (python -m training.combine_evaluations)",
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=GIVEN, help="sampling seed (default: the run's)"
    )
    p.add_argument(
        "--pixel-scale",
        type=int,
        choices=PIXEL_SCALES,
        default=GIVEN,
        help="binarized 8-bit images: score images drawn from byte/N, with batch-norm "
        "statistics recomputed from training images drawn so (default: the run's own scale); "
        "another scale than the run's writes evaluation-SPLIT-pixel-scale-N.json",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=GIVEN,
        help=f"speed only (default {default_of(EvaluationSettings, 'batch_size')})",
    )
    add_no_xla(p)
    p.add_argument("--out", help="report file (default: RUN_DIR/evaluation-SPLIT.json)")
    p.add_argument("--overwrite", action="store_true", help="replace the report file if it exists")
    add_verbose(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fields = given_fields(args, EvaluationSettings)
    if args.example_range:
        fields["first_example"], fields["examples"] = args.example_range
    run = RunDir(args.run)
    if run.exists() and fields.get("pixel_scale") == run.read_config().pixel_scale:
        del fields["pixel_scale"]  # the run's own scale: its usual report
    settings = EvaluationSettings(**fields)
    out = Path(args.out) if args.out else run.evaluation_path(settings.split, settings.report_name)
    check_new_report(out, args.overwrite)
    begin(
        f"evaluating {run.path}: {settings.split} split"
        + (f" ({settings.report_name})" if settings.report_name else "")
        + f", K = {settings.iw_samples}, "
        f"{settings.batch_norm} batch-norm statistics",
        args.verbose,
    )
    from tf_lvae.runs.report import evaluate_run  # TensorFlow starts here

    report = evaluate_run(run.path, settings, data_dir=args.data_dir)
    write_json(out, report)
    print(f"-> {out}")
    if not all(math.isfinite(report[key]) for key in ("log_likelihood", "elbo")):
        raise TrainingFailed(
            f"the log-likelihood ({report['log_likelihood']}) or the ELBO ({report['elbo']}) "
            f"is not finite; {out} records them as null"
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
