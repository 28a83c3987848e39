"""Throughput of the training input pipeline, without a model.

Run from the repository root: python -m benchmarks.input_pipeline [--epochs 3]
Measures examples/s of tf_lvae.data.train_dataset on MNIST-sized data (60,000 random
28x28 grey images, batch 256, dynamic binarization), iterating and touching every batch,
as it is and with the checks `HierarchicalVAE.fit` adds to a dataset
(`tf_lvae.examples.checked_dataset`), alternately, in one run.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

import numpy as np

from tf_lvae.config import ModelConfig
from tf_lvae.data import steps_per_epoch, train_dataset
from tf_lvae.examples import checked_dataset


def measure(examples: int, batch_size: int, epochs: int, checked: bool = False) -> float:
    """Returns the examples/s of train_dataset over ``epochs`` epochs (after one warm-up
    batch), with the checks of `checked_dataset` when `checked`."""
    x = np.random.default_rng(0).random((examples, 28, 28), dtype=np.float32)
    dataset = train_dataset(x, batch_size=batch_size, binarize=True, seed=0, epochs=epochs + 1)
    if checked:
        dataset = checked_dataset(dataset, ModelConfig(input_shape=(28, 28)))
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
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args()
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeats):
        for checked in rates:
            rates[checked].append(measure(args.examples, args.batch_size, args.epochs, checked))
    print(f"command: python -m benchmarks.input_pipeline {' '.join(sys.argv[1:])}".rstrip())
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    for checked, values in rates.items():
        print(
            f"train_dataset{' + checked_dataset' if checked else ''}: median "
            f"{np.median(values):,.0f} examples/s of {len(values)} alternating runs "
            f"({args.examples} x 28x28, batch {args.batch_size}, binarize=True, "
            f"{args.epochs} epochs each)"
        )


if __name__ == "__main__":
    main()
