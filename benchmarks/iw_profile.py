"""python -m benchmarks.iw_profile: where the time of the IW evaluation goes.

For the paper's 5-layer MNIST model and chunks of R rows (examples x samples drawn at once),
prints in one run:
- the IW evaluation (`model.score`, XLA) in examples x samples per second;
- the same rows through the per-sample Dense layers' matmuls alone (the top-down and
  generative MLPs, their heads and the decoder: the FLOPs of a sample), XLA;
- the matrix-multiply peak, and each figure as a fraction of it.
The gap between the two is what is not matmul: element-wise work (batch norm,
nonlinearities, log densities, the merge) and memory traffic.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from benchmarks.throughput import iw_flops_per_sample, matmul_peak, per_sample_kernels
from tf_lvae.cli import ArgumentParser, int_list, positive_int, run_command
from tf_lvae.model import HierarchicalVAE
from tf_lvae.presets import preset


def best_of(fn, repeats: int = 3) -> float:
    """The shortest of `repeats` timed calls of fn (after one untimed call), in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def score_rate(model: HierarchicalVAE, x: np.ndarray, batch: int, chunk: int, k: int) -> float:
    """Examples x samples per second of model.score over x in batches, chunks of `chunk`."""
    fn = tf.function(lambda b, s: model.score(b, k, chunk, s), jit_compile=True)
    seed = tf.constant([0, 0])
    batches = [tf.constant(x[i : i + batch]) for i in range(0, len(x), batch)]

    def run():
        for b in batches:
            fn(b, seed)["elbo"].numpy()

    return len(x) * k / best_of(run)


def matmul_rate(model: HierarchicalVAE, rows: int, calls: int = 20) -> float:
    """Rows per second through the per-sample kernels' matmuls alone (random inputs)."""
    kernels = [tf.constant(w.numpy()) for w in per_sample_kernels(model)]
    inputs = [tf.random.normal([rows, int(k.shape[0])]) for k in kernels]

    @tf.function(jit_compile=True)
    def chain():
        return tf.add_n(
            [tf.reduce_sum(tf.matmul(a, k)) for a, k in zip(inputs, kernels, strict=True)]
        )

    return rows * calls / best_of(lambda: [chain().numpy() for _ in range(calls)])


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m benchmarks.iw_profile", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("lvae", "vae"), default="lvae")
    p.add_argument("--batch", type=positive_int, default=500, help="examples per call")
    p.add_argument("--rows", type=int_list, default=(25_600, 12_800, 6_400, 4_096, 2_048, 1_024))
    p.add_argument("--iw-samples", type=positive_int, default=400, help="K of the timing")
    p.add_argument("--examples", type=positive_int, default=1000)
    args = p.parse_args(argv)
    model = HierarchicalVAE(preset("mnist", 5, args.model).model, seed=0)
    x = (np.random.default_rng(0).uniform(size=(args.examples, 28, 28)) < 0.3).astype("float32")
    flops = iw_flops_per_sample(model)
    peak = matmul_peak()
    print(f"# benchmarks.iw_profile  {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"command: python -m benchmarks.iw_profile {' '.join(argv or sys.argv[1:])}")
    print(f"matmul peak (float32): {peak:.0f} GFLOP/s; {flops / 1e6:.2f} MFLOP per sample")
    print(
        "| rows per chunk | chunk (samples) | score (ex x samples/s) | of peak "
        "| matmuls alone (rows/s) | of peak | not matmul |"
    )
    print("|---|---|---|---|---|---|---|")
    for rows in args.rows:
        chunk = max(1, rows // args.batch)
        score = score_rate(model, x, args.batch, chunk, args.iw_samples)
        matmuls = matmul_rate(model, chunk * args.batch)
        print(
            f"| {chunk * args.batch:,} | {chunk} | {score:,.0f} | {score * flops / 1e9 / peak:.0%} "
            f"| {matmuls:,.0f} | {matmuls * flops / 1e9 / peak:.0%} | {1 - score / matmuls:.0%} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
