"""Cost of a run's TensorBoard images (`runs.callbacks.TensorBoardImages`) against the
training time they accompany.

Run from the repository root:
    python -m benchmarks.tensorboard_images [--data-dir DIR] [--epochs 5] [--writes 5]

Trains the paper's 5-layer MNIST LVAE (real MNIST with --data-dir, else 60,000 random
grey images) for --epochs epochs through the run's own loop (`train.fit_run`: XLA, the
monitor every 5 epochs), then times --writes image writes on the trained model with a
per-unit KL record of 400 entries, the last and largest of a paper-length run (2000
epochs). Prints the median epoch without monitor work (after the first, which compiles),
the median write, and the writes' share of the training time at the default cadence
(one write per 5 epochs), with the date and the machine's load.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.throughput import EpochTimes, synthetic
from tf_lvae.cli import ArgumentParser, positive_int, run_command
from tf_lvae.data.splits import test_images
from tf_lvae.evaluation.images import RECONSTRUCTED
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.callbacks import TensorBoardImages, due
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import fit_run

PAPER_EPOCHS, RECORDS = 2000, 400


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.tensorboard_images", description=__doc__)
    parser.add_argument("--data-dir", help="folder with the MNIST IDX files (default: random)")
    parser.add_argument("--epochs", type=positive_int, default=5)
    parser.add_argument("--writes", type=positive_int, default=5)
    args = parser.parse_args(argv)
    data = synthetic("mnist", args.data_dir)
    settings = preset("mnist", 5, "lvae")
    config = RunConfig(
        "mnist",
        args.data_dir,
        settings.model,
        settings.training.replace(epochs=args.epochs),
        eval_every=0,
    )
    with tempfile.TemporaryDirectory() as folder:
        run = RunDir(folder)
        run.write_config(config)
        timer = EpochTimes()
        model = fit_run(run, config, data, print_fn=lambda *a: None, extra_callbacks=[timer])
        plain = [
            seconds
            for epoch, seconds in enumerate(timer.times[1:], start=1)
            if not due(epoch, config.monitor_every, args.epochs - 1)
        ]
        layers = [np.full((RECORDS, d), 0.5, np.float32) for d in config.model.latent_dims]
        run.write_unit_kl(list(range(5, 5 * RECORDS + 1, 5)), layers)
        images = TensorBoardImages(run, test_images(data)[:RECONSTRUCTED], every=1)
        images.set_model(model)
        images.set_params({"epochs": 10**9})
        images.on_train_begin()
        writes = []
        for epoch in range(args.writes):
            start = time.perf_counter()
            images.on_epoch_end(epoch, {"test_elbo": -100.0})
            writes.append(time.perf_counter() - start)
        images.on_train_end()
    epoch, write = statistics.median(plain), statistics.median(writes)
    every = config.monitor_every
    load = os.getloadavg()[0]
    print(f"{datetime.date.today()}, load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"data: {data.name}; epochs without monitor work: {[round(s, 2) for s in plain]}")
    print(
        f"epoch (median): {epoch:.2f} s; image write (median of {len(writes)}, {RECORDS}-entry "
        f"unit KL record): {write:.3f} s (all: {[round(s, 3) for s in writes]})"
    )
    print(f"writes' share of the training time, one per {every} epochs: "
          f"{100 * write / (every * epoch + write):.2f}% "
          f"({PAPER_EPOCHS // every} writes in a {PAPER_EPOCHS}-epoch run: "
          f"{PAPER_EPOCHS // every * write:.0f} s of {PAPER_EPOCHS * epoch:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
