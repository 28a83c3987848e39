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

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE
from tf_lvae.cli import ArgumentParser, non_negative_int, positive_int, run_command
from tf_lvae.config import PAPER_TEST_IW_SAMPLES
from tf_lvae.model import HierarchicalVAE
from tf_lvae.runs.checkpoints import load_run_model
from tf_lvae.runs.run_dir import write_atomic_dir


@dataclass(frozen=True)
class Input:
    """A named signature input: dtype, required shape (None: any size) and allowed range."""

    name: str
    dtype: tf.DType
    shape: tuple[int | None, ...]
    low: float | None = None
    high: float | None = None

    def spec(self) -> tf.TensorSpec:
        """Declared without a shape: TF Serving does not check shapes, so `check` does."""
        return tf.TensorSpec(None, self.dtype, name=self.name)

    def describe(self) -> str:
        """E.g. 'float32 of shape [batch, 28, 28] in [0, 1]'."""
        dims = ", ".join("batch" if d is None else str(d) for d in self.shape)
        text = f"{self.dtype.name} of shape [{dims}]" if self.shape else f"{self.dtype.name} scalar"
        if self.high is not None:
            return f"{text} in [{self.low:g}, {self.high:g}]"
        return text if self.low is None else f"{text} >= {self.low:g}"

    def check(self, value: tf.Tensor) -> tf.Tensor:
        """value, after in-graph checks of its shape and range that fail with an
        InvalidArgument naming what is expected; with its static shape for what follows."""
        return self._check_range(self._check_shape(value))

    def _fail_unless(self, condition: tf.Tensor, got: str, *data) -> tf.Operation:
        message = f"{self.name} must be {self.describe()}; got {got}".rstrip()
        return tf.debugging.Assert(condition, [message, *data], summarize=16)

    def _check_shape(self, value: tf.Tensor) -> tf.Tensor:
        actual = tf.shape(value)
        expected = [-1 if d is None else d for d in self.shape]
        shape_ok = tf.cond(
            tf.equal(tf.size(actual), len(expected)),
            lambda: tf.reduce_all((actual == expected) | (tf.constant(expected) < 0)),
            lambda: tf.constant(False),
        )
        # A reshape, not set_shape or ensure_shape: grappler would take those for facts
        # about the input and fold the check away.
        with tf.control_dependencies([self._fail_unless(shape_ok, "shape", actual)]):
            return tf.reshape(value, expected)

    def _check_range(self, value: tf.Tensor) -> tf.Tensor:
        if self.low is None:
            return value
        in_range = value >= tf.cast(self.low, self.dtype)
        if self.high is not None:
            in_range &= value <= tf.cast(self.high, self.dtype)
        got = ("values from", tf.reduce_min(value), "to", tf.reduce_max(value))
        if not self.shape:
            got = ("", value)
        with tf.control_dependencies([self._fail_unless(tf.reduce_all(in_range), *got)]):
            return tf.identity(value)


NUM_SAMPLES = Input("num_samples", tf.int32, (), low=1)
SEED = Input("seed", tf.int32, (2,))
TEMPERATURE = Input("temperature", tf.float32, (), low=0)


def signatures(
    model: HierarchicalVAE,
    num_samples: int = PAPER_TEST_IW_SAMPLES,
    chunk_size: int = DEFAULT_IW_CHUNK_SIZE,
    score_seed: int = 0,
) -> dict[str, tuple[tuple[Input, ...], Callable[..., dict[str, tf.Tensor]]]]:
    """The exported signatures: name -> (inputs, function of those inputs -> named outputs).

    The first one is also served as "serving_default" (see `export_model`).
    """
    config = model.model_config
    x = Input("x", tf.float32, (None, *config.input_shape), low=0, high=1)
    from_layer = Input("from_layer", tf.int32, (), low=1, high=config.num_layers)

    def score(x, num_samples):
        return model.score(x, num_samples, chunk_size, seed=score_seed)

    def sample(num_samples, seed, from_layer=None, temperature=1.0):
        return {"images": model.sample(num_samples, from_layer, temperature, seed)}

    return {
        "score_default": ((x,), lambda x: score(x, num_samples)),
        "score": ((x, NUM_SAMPLES), score),
        "encode": ((x,), model.encode),
        "reconstruct": ((x,), lambda x: {"reconstruction": model.reconstruct(x)}),
        "sample": ((NUM_SAMPLES, SEED, from_layer, TEMPERATURE), sample),
        "sample_default": ((NUM_SAMPLES, SEED), sample),
    }


def _checked(inputs: tuple[Input, ...], fn: Callable) -> Callable:
    """fn called on its inputs after their checks."""

    def call(*values):
        return fn(*(i.check(v) for i, v in zip(inputs, values, strict=True)))

    return call


def export_model(
    model: HierarchicalVAE,
    export_dir: str | os.PathLike,
    num_samples: int = PAPER_TEST_IW_SAMPLES,
    chunk_size: int = DEFAULT_IW_CHUNK_SIZE,
    score_seed: int = 0,
) -> Path:
    """Writes the SavedModel of `signatures` to export_dir (which must not exist) and
    returns its path. It is written beside it and renamed into place, so a server watching
    the parent folder never loads a partial export."""
    export_dir = Path(export_dir)
    if export_dir.exists():
        raise FileExistsError(f"{export_dir} already exists; export to another version")
    # keras' ExportArchive saves only the variables the endpoints use (no optimizer state)
    # and serves its first endpoint, score_default, as "serving_default" too.
    archive = keras.export.ExportArchive()
    for name, (inputs, fn) in signatures(model, num_samples, chunk_size, score_seed).items():
        archive.add_endpoint(name, _checked(inputs, fn), [i.spec() for i in inputs])
    write_atomic_dir(export_dir, lambda tmp: archive.write_out(str(tmp), verbose=False))
    return export_dir


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    base = Path(args.out)
    target = base / str(args.version or next_version(base))
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another --version")
    model = load_run_model(args.run)
    export_model(model, target, args.num_samples, args.chunk_size, args.score_seed)
    print(f"exported {args.run} to {target}; serve {base.resolve()} (see docs/serving.md)")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
