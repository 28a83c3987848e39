"""Throughput of the training input pipeline, without a model.

Run from the repository root: python -m benchmarks.input_pipeline [--epochs 3]
Measures examples/s of tf_lvae.data.train_dataset on MNIST-sized data (60,000 random
28x28 grey images, batch 256, dynamic binarization), iterating and touching every batch.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

import numpy as np

from tf_lvae.data import steps_per_epoch, train_dataset


def measure(examples: int, batch_size: int, epochs: int) -> float:
    """Returns the examples/s of train_dataset over ``epochs`` epochs (after one warm-up batch)."""
    x = np.random.default_rng(0).random((examples, 28, 28), dtype=np.float32)
    dataset = train_dataset(x, batch_size=batch_size, binarize=True, seed=0, epochs=epochs + 1)
    batches = iter(dataset)
    next(batches)
    start, count = time.perf_counter(), 0
    for _ in range(epochs * steps_per_epoch(x, batch_size)):
        count += int(next(batches).shape[0])
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    rate = measure(args.examples, args.batch_size, args.epochs)
    print(f"command: python -m benchmarks.input_pipeline {' '.join(sys.argv[1:])}".rstrip())
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(
        f"train_dataset: {rate:,.0f} examples/s ({args.examples} x 28x28, batch "
        f"{args.batch_size}, binarize=True, {args.epochs} epochs)"
    )


if __name__ == "__main__":
    main()
