"""python -m benchmarks.distribute: training speed under tf.distribute on this machine, the
bytes all-reduced per step, and the scaling they allow elsewhere.

Times whole `fit_run` epochs (the run's own loop and callbacks, checkpoints included) of
the paper's MNIST model on the global batch, each setting in fresh processes:
- one process, the fast path (XLA, several steps per compiled call);
- one process, one step per call without XLA (what a strategy runs, without one);
- MirroredStrategy over 2 logical CPU devices (one process);
- MultiWorkerMirroredStrategy, 2 worker processes on loopback (`runs.loopback`).
The replicas of the last two share this machine's cores: no speed-up is possible here;
the figures show what the collectives cost. The bytes per step are counted from the
model's variables; the projection to 8 GPUs and several hosts is arithmetic on them
(ring all-reduce) at the link speeds it states, not a measurement.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from benchmarks.throughput import EpochTimes, examples_per_epoch, synthetic
from tf_lvae.cli import ArgumentParser, positive_int, run_command
from tf_lvae.evaluation.batch_norm import batch_norm_layers
from tf_lvae.model import HierarchicalVAE
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig
from tf_lvae.runs import loopback
from tf_lvae.runs.cluster import is_chief
from tf_lvae.runs.distribute import make_strategy
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import train_run, train_worker

SETTINGS = {
    "one-fast": "1 process, XLA, 32 steps per call",
    "one": "1 process, 1 step per call, no XLA",
    "mirrored": "MirroredStrategy, 2 logical CPUs",
    "workers": "MultiWorkerMirroredStrategy, 2 workers on loopback",
}
# Effective all-reduce bandwidths assumed by the projection (bytes/s), and what they stand for.
LINKS = {
    "NVLink (8 GPUs, one host)": 100e9,
    "PCIe 4.0 x16 (8 GPUs, one host)": 20e9,
    "100 Gb/s network (hosts)": 10e9,
    "10 Gb/s Ethernet (hosts)": 1e9,
}


ASSUMED_GPU_STEP = 1e-3  # s: a guess for one GPU step of this small MLP model, not measured


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m benchmarks.distribute", description=__doc__.split("\n")[0])
    p.add_argument("--layers", type=positive_int, default=5)
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--steps", type=positive_int, default=100, help="steps per epoch")
    p.add_argument("--epochs", type=positive_int, default=5, help="the first is not timed")
    p.add_argument("--setting", choices=tuple(SETTINGS), help=argparse.SUPPRESS)  # a child
    return p.parse_args(argv)


def run_config(args: argparse.Namespace, setting: str) -> RunConfig:
    """The paper's MNIST model and batch, `args.epochs` epochs, nothing evaluated during
    training, under the setting's strategy."""
    settings = preset("mnist", args.layers, "lvae")
    strategy = {"mirrored": "mirrored", "workers": "multiworker"}.get(setting, "default")
    training = settings.training.replace(
        batch_size=args.batch_size,
        epochs=args.epochs,
        strategy=strategy,
        devices=("CPU:0", "CPU:1") if strategy == "mirrored" else (),
    )
    if setting == "one":
        training = training.replace(jit_compile=False, steps_per_execution=1)
    return RunConfig(
        dataset="mnist",
        data_dir=None,
        model=settings.model,
        training=training,
        monitor_every=10**6,
        eval_every=0,
        unit_kl_examples=0,
        final_iw_samples=1,
    )


def time_setting(args: argparse.Namespace) -> None:
    """Trains under one setting, every process of it through what `training.fit` runs
    (`train_run` on the chief, `train_worker` on the others), and prints on the chief one
    line RESULT {"examples_per_s": median epoch after the first, "epoch_times": [...]}."""
    config = run_config(args, args.setting)
    strategy = make_strategy(config.training)  # before TensorFlow runs anything else
    full = synthetic("mnist", None)
    data = dataclasses.replace(full, x_train=full.x_train[: args.steps * args.batch_size])
    if not is_chief(strategy):
        train_worker(strategy, data=data, print_fn=lambda *_: None)
        return
    timer = EpochTimes()
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(tmp)
        run.write_config(config)
        train_run(run, data, print_fn=lambda *_: None, extra_callbacks=[timer], strategy=strategy)
    rate = examples_per_epoch(config, data) / float(np.median(timer.times[1:]))
    print("RESULT " + json.dumps({"examples_per_s": rate, "epoch_times": timer.times}))


def measure(setting: str, argv: list[str]) -> dict:
    """Runs `setting` in fresh processes; returns the chief's RESULT."""
    command = ["-m", "benchmarks.distribute", *argv, "--setting", setting]
    with tempfile.TemporaryDirectory() as tmp:
        folders = [Path(tmp) / f"worker{i}" for i in range(2 if setting == "workers" else 1)]
        if setting == "workers":
            codes = loopback.finish(loopback.start(command, folders))
        else:
            folders[0].mkdir()
            with loopback.log(folders[0], "out").open("w") as out:
                codes = [subprocess.run([sys.executable, *command], stdout=out).returncode]
        output = loopback.log(folders[0], "out").read_text()
        if codes != [0] * len(folders):
            raise RuntimeError(f"{setting} failed ({codes}): {output[-2000:]}")
    return json.loads(output.split("RESULT ")[-1])


def allreduced_bytes(config: RunConfig) -> dict[str, int]:
    """Bytes each replica all-reduces per step, counted from the model's variables: the
    gradients (summed before clipping), the batch-norm moving statistics (averaged), the
    finite flag, the metrics (one value each, averaged every step by the multi-worker
    loop), and what synchronized batch norm adds (the batch moments of every batch-norm
    layer, forward and backward)."""
    model = HierarchicalVAE(config.model)
    layers = batch_norm_layers(model)
    size = 4  # float32
    return {
        "gradients": size * sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        "batch_norm_statistics": size
        * sum(2 * int(layer.moving_mean.shape[0]) for layer in layers),
        "finite_flag": size,
        "metrics": size * len(model.metrics),
        "sync_batch_norm_extra": size
        * sum(2 * (2 * int(layer.moving_mean.shape[0]) + 1) for layer in layers),
    }


def ring_seconds(nbytes: int, replicas: int, bandwidth: float) -> float:
    """Time of a ring all-reduce of `nbytes` over `replicas` at `bandwidth` bytes/s
    (bandwidth term only: each replica sends and receives 2 (N - 1) / N of the data)."""
    return 2 * (replicas - 1) / replicas * nbytes / bandwidth


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.setting:
        time_setting(args)
        return 0
    config = run_config(args, "one")
    print(f"# benchmarks.distribute  {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"command: python -m benchmarks.distribute {' '.join(argv)}")
    print(
        f"machine: {platform.processor() or platform.machine()}, TF {tf.__version__}, "
        f"Keras {keras.__version__}; model: lvae {config.model.latent_dims}, global batch "
        f"{args.batch_size}, {args.steps} steps per epoch, median of epochs 2-{args.epochs}"
    )
    results = {}
    for setting, what in SETTINGS.items():
        results[setting] = measure(setting, argv)
        times = ", ".join(f"{t:.2f}" for t in results[setting]["epoch_times"])
        print(
            f"{what:55s} {results[setting]['examples_per_s']:8,.0f} examples/s  (epochs {times} s)"
        )
    nbytes = allreduced_bytes(config)
    step = sum(v for k, v in nbytes.items() if k != "sync_batch_norm_extra")
    print(
        "all-reduced per step and replica: "
        + ", ".join(f"{k.replace('_', ' ')} {v:,} B" for k, v in nbytes.items())
        + f"; total {step:,} B ({step / 2**20:.2f} MiB) without synchronized batch norm"
    )
    fast, plain = (args.batch_size / results[k]["examples_per_s"] for k in ("one-fast", "one"))
    for best, split, source in (
        (fast, plain, "measured here, CPU"),
        (ASSUMED_GPU_STEP, ASSUMED_GPU_STEP, "assumed GPU, the same with and without XLA"),
    ):
        print(
            f"projection ({source}): the one-device step {best * 1e3:.1f} ms, the step a "
            f"strategy runs {split * 1e3:.1f} ms split evenly over the replicas, plus a ring "
            "all-reduce (bandwidth term only, no overlap); speed-up against the one-device step:"
        )
        for link, bandwidth in LINKS.items():
            for replicas in (2, 8):
                comm = ring_seconds(step, replicas, bandwidth)
                print(
                    f"  {link:34s} {replicas} replicas: all-reduce {comm * 1e3:6.2f} ms/step, "
                    f"speed-up {best / (split / replicas + comm):4.1f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
