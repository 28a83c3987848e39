"""python -m benchmarks.logistic_mixture: the discretized logistic mixture's log-probability
by tf_lvae's formula against TFP's composition (`tfd.MixtureSameFamily` of
`tfd.QuantizedDistribution(tfd.Logistic)`), for grey 8-bit images.

Prints, for each:
- its largest error against a float64 evaluation of the same bin masses, over parameters
  from ordinary to extreme (a bin far in a logistic's tail, where the mass is tiny);
- the time of log_prob and its gradient for a batch of MNIST-sized rows (the training
  step's likelihood work), compiled with XLA and without, the median of --repeats.
"""

from __future__ import annotations

import datetime
import itertools
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tf_lvae.cli import ArgumentParser, int_list, positive_int, run_command
from tf_lvae.logistic_mixture import (
    HALF_BIN,
    MIN_LOG_SCALE,
    DiscretizedLogisticMixture,
    floored_scale,
)

tfd = tfp.distributions
LEVELS = 256


def tfp_log_prob(parameters: tf.Tensor, x: tf.Tensor, components: int) -> tf.Tensor:
    """log p(x) [rows] by TFP for grey pixels: parameters [rows, pixels, 3K], x [rows,
    pixels] of levels k / 255. TFP's bin of level k is (k - 1, k] on the level scale, ours
    [k - 1/2, k + 1/2], so its logistic sits half a level below ours."""
    logits, means, log_scales = tf.split(parameters, 3, axis=-1)
    scale = floored_scale(log_scales) * (LEVELS - 1)
    logistic = tfd.Logistic(loc=means * (LEVELS - 1) - 0.5, scale=scale)
    binned = tfd.QuantizedDistribution(logistic, low=0.0, high=LEVELS - 1.0)
    mixture = tfd.MixtureSameFamily(tfd.Categorical(logits=logits), binned)
    return tf.reduce_sum(mixture.log_prob(tf.round(x * (LEVELS - 1))), axis=-1)


def ours_log_prob(parameters: tf.Tensor, x: tf.Tensor, components: int) -> tf.Tensor:
    pixels = x.shape[-1]
    return DiscretizedLogisticMixture(parameters, components, (pixels,), 1).log_prob(x)


METHODS = {"tf_lvae": ours_log_prob, "TFP": tfp_log_prob}


def float64_bin_log_mass(level: np.ndarray, mean: np.ndarray, log_scale: np.ndarray):
    """log P(k) in float64 from the survival function above the mean and the CDF below."""
    scale = np.exp(np.maximum(log_scale, MIN_LOG_SCALE))
    value = level / (LEVELS - 1)
    a, b = (value + HALF_BIN - mean) / scale, (value - HALF_BIN - mean) / scale

    def log_sigmoid(v):
        return -np.logaddexp(0.0, -v)

    # log(F(a) - F(b)) = log F(a) + log(1 - F(b) / F(a)), on the side where F is not near 1
    # (np.where computes both sides: the other may divide by zero)
    with np.errstate(divide="ignore"):
        below = log_sigmoid(a) + np.log1p(-np.exp(log_sigmoid(b) - log_sigmoid(a)))
        above = log_sigmoid(-b) + np.log1p(-np.exp(log_sigmoid(-a) - log_sigmoid(-b)))
    interior = np.where(a + b > 0, above, below)
    return np.where(
        level == 0, log_sigmoid(a), np.where(level == LEVELS - 1, log_sigmoid(-b), interior)
    )


def errors(rows: int = 256) -> dict[str, tuple[float, float]]:
    """The largest absolute and relative error of each method's single-component bin log
    mass against float64, over every level and means and scales from ordinary to extreme."""
    rng = np.random.default_rng(0)
    mean = rng.choice([0.5, 2.0, 10.0], size=(rows, 1)) * rng.normal(size=(rows, 1))
    log_scale = rng.uniform(-9.0, 3.0, size=(rows, 1))
    level = np.arange(LEVELS, dtype=np.float64)[None, :]
    expected = float64_bin_log_mass(level, mean, log_scale)
    x = tf.constant(np.broadcast_to(level / (LEVELS - 1), (rows, LEVELS)), tf.float32)
    parameters = np.stack(
        np.broadcast_arrays(np.zeros_like(mean), mean, log_scale), axis=-1
    ) * np.ones((1, LEVELS, 1))
    parameters = tf.constant(parameters, tf.float32)  # [rows, levels, 3]: K = 1, a pixel each
    out = {}
    for name, fn in METHODS.items():
        per_pixel = [fn(parameters[:, i : i + 1], x[:, i : i + 1], 1) for i in range(LEVELS)]
        got = tf.stack(per_pixel, axis=1).numpy()
        error = np.abs(got - expected)
        out[name] = float(error.max()), float(np.max(error / np.maximum(1.0, np.abs(expected))))
    return out


def timing(fn, rows: int, pixels: int, components: int, xla: bool, repeats: int) -> float:
    """Median seconds of log_prob and its gradient for [rows, pixels] grey images."""
    rng = np.random.default_rng(1)
    parameters = tf.Variable(rng.normal(size=(rows, pixels, 3 * components)).astype(np.float32))
    x = tf.constant(rng.integers(0, LEVELS, size=(rows, pixels)) / (LEVELS - 1), tf.float32)

    @tf.function(jit_compile=xla)
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(fn(parameters, x, components))
        return tape.gradient(loss, parameters)

    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step().numpy()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m benchmarks.logistic_mixture", description=__doc__)
    p.add_argument("--rows", type=positive_int, default=256, help="images per step")
    p.add_argument(
        "--components", type=int_list, default=(10,), help="K, or several: 1,3,5,10 (default 10)"
    )
    p.add_argument("--repeats", type=positive_int, default=10)
    args = p.parse_args(argv)
    print(f"# benchmarks.logistic_mixture  {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"command: python -m benchmarks.logistic_mixture {' '.join(argv or sys.argv[1:])}")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, TF {tf.__version__}, TFP {tfp.__version__}")
    for name, (error, relative) in errors().items():
        print(
            f"{name}: largest error of a bin's log mass against float64: {error:.3g} nats, "
            f"{relative:.2g} of the log mass"
        )
    for k, xla, (name, fn) in itertools.product(args.components, (True, False), METHODS.items()):
        seconds = timing(fn, args.rows, 784, k, xla, args.repeats)
        what = f"log_prob + gradient of {args.rows} x 784 pixels, K = {k}"
        print(f"{name}, XLA {'on' if xla else 'off'}: {what}: {seconds * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
