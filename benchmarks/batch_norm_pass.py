"""python -m benchmarks.batch_norm_pass: time and peak memory of recomputing a preset model's
batch-norm statistics from its training set (evaluation/batch_norm.py), in the chunks
its batch_norm_chunk_rows gives or, with --one-batch, in the authors' one batch.

The model is the preset's, untrained (the cost does not depend on the weights); the data
real MNIST from --data-dir, else synthetic images of the dataset's shape and size. Run
each form in its own process: the peak resident memory printed is the process's.
"""

from __future__ import annotations

import datetime
import platform
import resource
import sys
import time
from collections.abc import Sequence

from benchmarks.throughput import SYNTHETIC, synthetic
from tf_lvae.cli import ArgumentParser, positive_int, run_command
from tf_lvae.config import ARCHITECTURES
from tf_lvae.data.splits import training_images
from tf_lvae.evaluation.batch_norm import batch_norm_chunk_rows, recompute_batch_norm_statistics
from tf_lvae.model import HierarchicalVAE
from tf_lvae.presets import preset


def parse_args(argv: Sequence[str] | None):
    p = ArgumentParser(
        prog="python -m benchmarks.batch_norm_pass", description=__doc__.split("\n")[0]
    )
    p.add_argument("--dataset", choices=SYNTHETIC, default="mnist", help="the preset's")
    p.add_argument("--model", choices=("lvae", "vae"), default="lvae")
    p.add_argument("--architecture", choices=ARCHITECTURES, default="conv")
    p.add_argument("--layers", type=positive_int, default=5)
    p.add_argument("--examples", type=positive_int, help="the first N training images (all)")
    p.add_argument("--one-batch", action="store_true", help="the whole set in one batch")
    p.add_argument("--data-dir", help="real MNIST (IDX files), else synthetic images")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = synthetic(args.dataset, args.data_dir)
    config = preset(args.dataset, args.layers, args.model, args.architecture).model
    model = HierarchicalVAE(config, seed=0)
    x = training_images(data, data.x_train[: args.examples], seed=0)
    model(x[:2])
    chunk_rows = None if args.one_batch else batch_norm_chunk_rows(config)
    print(f"{platform.processor() or platform.machine()}, {datetime.date.today()}")
    print(f"{args.architecture} {args.model}, {args.layers} layers, {len(x):,} {data.source}")
    start = time.perf_counter()
    layers = recompute_batch_norm_statistics(model, x, seed=0, chunk_rows=chunk_rows)
    seconds = time.perf_counter() - start
    form = "one batch" if chunk_rows is None else f"chunks of {chunk_rows:,}"
    print(f"{layers} batch-norm layers, {form}: {seconds:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak resident memory: {rss:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
