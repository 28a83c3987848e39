"""python -m export.saved_model: a trained model as a versioned SavedModel for TF Serving.

    python -m export.saved_model --run RUN_DIR --out EXPORT_BASE [--version N]

writes EXPORT_BASE/N/ (default N: one more than the highest numeric folder there, from 1),
the layout `tensorflow_model_server --model_base_path=EXPORT_BASE` serves. It holds the
weights the signatures use (batch norm in inference mode) and nothing else. Signatures
(SavedModel inputs cannot be optional, so each "optional" input has a variant without it):

| signature       | inputs                                     | outputs                   |
|-----------------|--------------------------------------------|---------------------------|
| encode          | x                                          | z1_mean, z1_variance, ... |
| reconstruct     | x                                          | reconstruction            |
| sample          | num_samples, seed, from_layer, temperature | images                    |
| sample_default  | num_samples, seed (top layer, T = 1)       | images                    |
| score           | x, num_samples                             | log_likelihood, elbo      |
| score_default   | x (K = the export's --num-samples)         | log_likelihood, elbo      |
| serving_default | the same as score_default                  |                           |

x: float32 [batch, *input_shape] in [0, 1]; num_samples: int32 scalar >= 1; seed: int32
[2] (stateless: the same seed gives the same images); from_layer: int32 scalar, 1-based;
temperature: float32 scalar >= 0. `score` draws its samples from a seed fixed at export
(--score-seed), so the same request gets the same answer. Any other input (a wrong shape,
x outside [0, 1]: rejected, not clipped) fails with an InvalidArgument naming what is
expected. See docs/serving.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from export.limits import ServingLimits
from tf_lvae.cli import (
    ArgumentParser,
    add_run,
    add_verbose,
    begin,
    default_of,
    given_fields,
    non_negative_int,
    positive_float,
    positive_int,
    run_command,
)
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES
from tf_lvae.runs.run_dir import check_writable


def next_version(export_base: Path) -> int:
    """One more than the highest numeric folder in export_base; 1 when there is none."""
    versions = [int(p.name) for p in export_base.glob("*") if p.name.isdigit() and p.is_dir()]
    return max(versions, default=0) + 1


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m export.saved_model",
        description="Export a trained run as EXPORT_BASE/VERSION/, a SavedModel for TF Serving.",
    )
    add_run(parser)
    parser.add_argument("--out", required=True, help="EXPORT_BASE, the served model's folder")
    parser.add_argument("--version", type=positive_int, help="default: the next free number")
    parser.add_argument(
        "--num-samples",
        type=positive_int,
        default=PAPER_TEST_IW_SAMPLES,
        help="IW samples K of score_default and serving_default (default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-size",
        type=positive_int,
        help="IW samples drawn at once by score (default: 16, the library's; at most 4,096 rows)",
    )
    parser.add_argument(
        "--score-seed",
        type=non_negative_int,
        default=0,
        help="the fixed seed of score's samples (default: %(default)s)",
    )
    limits = parser.add_argument_group("the most work one request may ask for")
    for name, kind in (
        ("max_batch", positive_int),
        ("max_samples", positive_int),
        ("max_score_samples", positive_int),
        ("max_temperature", positive_float),
    ):
        limits.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            default=argparse.SUPPRESS,
            help=f"default {default_of(ServingLimits, name):,}",
        )
    add_verbose(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    base = check_writable(Path(args.out), "folder", "--out")
    target = base / str(args.version or next_version(base))
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another --version")
    limits = ServingLimits(**given_fields(args, ServingLimits))
    limits.check_score_default(args.num_samples)
    begin(f"exporting {args.run} to {target}", args.verbose)
    from export.archive import export_model  # TensorFlow starts here
    from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE
    from tf_lvae.runs.checkpoints import load_run_model

    model = load_run_model(args.run)
    source = str(Path(args.run).resolve())
    chunk_size = args.chunk_size or DEFAULT_IW_CHUNK_SIZE
    export_model(model, target, args.num_samples, chunk_size, args.score_seed, limits, source)
    print(f"exported {args.run} to {target}; serve {base.resolve()} (see docs/serving.md)")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
