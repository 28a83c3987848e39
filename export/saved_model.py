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
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import keras
from tensorflow.core.protobuf import saved_model_pb2

from export.signatures import Input, ServingLimits, checked, signatures
from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE
from tf_lvae.cli import (
    ArgumentParser,
    default_of,
    given_fields,
    non_negative_int,
    positive_float,
    positive_int,
    run_command,
)
from tf_lvae.config import PAPER_TEST_IW_SAMPLES
from tf_lvae.model import HierarchicalVAE
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.run_dir import check_writable, write_atomic_dir, write_json


def export_model(
    model: HierarchicalVAE,
    export_dir: str | os.PathLike,
    num_samples: int = PAPER_TEST_IW_SAMPLES,
    chunk_size: int = DEFAULT_IW_CHUNK_SIZE,
    score_seed: int = 0,
    limits: ServingLimits | None = None,
    source: str | None = None,
) -> Path:
    """Writes the SavedModel of `signatures` to export_dir (which must not exist) and
    returns its path. Its signature metadata declares every input's shape, and
    assets.extra/tf_lvae.json records the export's settings and limits (and `source`, the
    run it came from). It is written beside it and renamed into place, so a server
    watching the parent folder never loads a partial export."""
    export_dir = Path(export_dir)
    limits = limits or ServingLimits()
    if export_dir.exists():
        raise FileExistsError(f"{export_dir} already exists; export to another version")
    if num_samples > limits.max_score_samples:
        raise ValueError(
            f"the K of score_default ({num_samples}, --num-samples) is above the export's "
            f"max_score_samples ({limits.max_score_samples}, --max-score-samples)"
        )
    # keras' ExportArchive saves only the variables the endpoints use (no optimizer state)
    # and serves its first endpoint, score_default, as "serving_default" too.
    archive = keras.export.ExportArchive()
    exported = signatures(model, num_samples, chunk_size, score_seed, limits)
    for name, (inputs, fn) in exported.items():
        archive.add_endpoint(name, checked(inputs, fn), [i.spec() for i in inputs])
    record = {
        "source": source,
        "model": model.model_config.to_dict(),
        "batch_norm_statistics": model.batch_norm_statistics,
        "score_default_num_samples": num_samples,
        "chunk_size": chunk_size,
        "score_seed": score_seed,
        "limits": dataclasses.asdict(limits),
    }

    def write(folder: Path) -> None:
        archive.write_out(str(folder), verbose=False)
        declare_shapes(folder, {name: inputs for name, (inputs, _) in exported.items()})
        write_json(folder / "assets.extra" / "tf_lvae.json", record)

    write_atomic_dir(export_dir, write)
    return export_dir


def declare_shapes(export_dir: Path, inputs: dict[str, tuple[Input, ...]]) -> None:
    """Writes every signature input's shape into the SavedModel's signature metadata (what
    TF Serving's metadata API and saved_model_cli show); "serving_default" is the first
    signature's. The graph itself keeps inputs of any shape and checks them (Input.spec)."""
    path = export_dir / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    shapes = {**inputs, "serving_default": next(iter(inputs.values()))}
    for meta_graph in saved.meta_graphs:
        for name, signature in meta_graph.signature_def.items():
            for spec in shapes.get(name, ()):
                shape = signature.inputs[spec.name].tensor_shape
                shape.Clear()
                for size in spec.declared_shape:
                    shape.dim.add(size=size)
    path.write_bytes(saved.SerializeToString())


def next_version(export_base: Path) -> int:
    """One more than the highest numeric folder in export_base; 1 when there is none."""
    versions = [int(p.name) for p in export_base.glob("*") if p.name.isdigit() and p.is_dir()]
    return max(versions, default=0) + 1


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m export.saved_model",
        description="Export a trained run as EXPORT_BASE/VERSION/, a SavedModel for TF Serving.",
    )
    parser.add_argument("--run", required=True, help="the run directory of training.fit")
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
        default=DEFAULT_IW_CHUNK_SIZE,
        help="IW samples drawn at once by score (default: %(default)s)",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    base = check_writable(Path(args.out), "folder", "--out")
    target = base / str(args.version or next_version(base))
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another --version")
    limits = ServingLimits(**given_fields(args, ServingLimits))
    model = load_run_model(args.run)
    source = str(Path(args.run).resolve())
    export_model(model, target, args.num_samples, args.chunk_size, args.score_seed, limits, source)
    print(f"exported {args.run} to {target}; serve {base.resolve()} (see docs/serving.md)")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
