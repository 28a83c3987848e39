"""python -m benchmarks.throughput: training and IW-evaluation speed of a preset's model.

Measures, in one run on this machine:
- training examples/s of the compiled train step fed by the real tf.data pipeline
  (dynamic binarization included), and of whole `training.fit` epochs (the same
  `train_run`, with its per-epoch test ELBO, per-unit KL record and checkpoints);
- IW evaluation in examples x samples per second, and the projected time of the
  paper's test log-likelihood (K = 5000 over 10,000 test images);
- peak resident memory; the float32 matrix-multiply peak and the fraction of it
  the training step reaches (FLOPs of the matrix multiplies and convolutions, counted
  by TensorFlow's profiler).

Data: synthetic images of the dataset's shape and size (MNIST: 60,000 binarized 28x28;
NORB: 24,300 grey 32x32 dequantized 8-bit values) unless --data-dir holds real MNIST
(speed does not depend on pixel values).
"""

from __future__ import annotations

import dataclasses
import datetime
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.profiler import model_analyzer, option_builder

from tf_lvae.architecture import architecture_of
from tf_lvae.cli import ArgumentParser, int_in, positive_int, run_command
from tf_lvae.config import ARCHITECTURES, DISCRETE_LIKELIHOODS, LIKELIHOODS
from tf_lvae.data import DatasetArrays, load_dataset, steps_per_epoch
from tf_lvae.evaluation.scoring import Evaluator
from tf_lvae.model import HierarchicalVAE
from tf_lvae.optimizer import make_optimizer
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import compiled_model, train_run, training_batches

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# dataset: (image shape, training and test examples, binarized)
SYNTHETIC = {"mnist": ((28, 28), 60_000, 10_000, True), "norb": ((32, 32), 24_300, 24_300, False)}


def parse_args(argv: Sequence[str] | None):
    p = ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=SYNTHETIC, default="mnist", help="the preset's")
    p.add_argument("--model", choices=("lvae", "vae"), default="lvae")
    p.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="mlp",
        help="the preset's (docs/training.md)",
    )
    p.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        help="default: the preset's; logistic-mixture models the 8-bit levels themselves",
    )
    p.add_argument("--mixture-components", type=positive_int, default=10)
    p.add_argument("--layers", type=positive_int, default=5)
    p.add_argument("--batch-size", type=positive_int, default=256)
    at_least_2 = int_in(2, 100_000)  # the first epoch compiles and is not timed
    p.add_argument("--epochs", type=at_least_2, default=4, help="epochs of the step timing")
    p.add_argument(
        "--fit-epochs", type=at_least_2, default=11, help="epochs of the training.fit timing"
    )
    p.add_argument("--steps-per-execution", type=positive_int, help="default: the run's")
    p.add_argument("--no-xla", action="store_true")
    p.add_argument(
        "--keras-loop",
        action="store_true",
        help="step timing with Keras's steps_per_execution loop instead of stacked batches",
    )
    p.add_argument("--precision", choices=PRECISIONS, default="float32")
    p.add_argument("--iw-samples", type=positive_int, default=1000, help="K of the IW timing")
    p.add_argument("--iw-examples", type=positive_int, default=1000)
    p.add_argument("--data-dir", help="real MNIST (IDX files); default: synthetic images")
    p.add_argument("--skip", nargs="*", default=(), choices=("steps", "fit", "iw"))
    return p.parse_args(argv)


def synthetic(dataset: str, data_dir: str | None, likelihood: str) -> DatasetArrays:
    """Real MNIST from data_dir, else uniform random images of the dataset's shape and
    size (`SYNTHETIC`): binarized as MNIST is, or 8-bit values dequantized as NORB's; 8-bit
    levels as they are for a discrete likelihood (the logistic mixture)."""
    levels_only = likelihood in DISCRETE_LIKELIHOODS
    if data_dir:
        data = load_dataset("mnist", data_dir, download=False)
        return dataclasses.replace(data, binarize=False) if levels_only else data
    shape, train, test, binary = SYNTHETIC[dataset]
    binary = binary and not levels_only
    rng = np.random.default_rng(0)
    return DatasetArrays(
        name="synthetic",
        x_train=(rng.integers(0, 256, size=(train, *shape)) / 255).astype(np.float32),
        x_test=(rng.integers(0, 256, size=(test, *shape)) / 255).astype(np.float32),
        y_train=None,
        y_test=None,
        likelihood=likelihood,
        binarize=binary,
        source=f"synthetic {dataset}-shaped grey images",
        levels=None if binary else 256,
        dequantize=likelihood == "gaussian" and not binary,
    )


def graph_flops(fn, spec: tf.TensorSpec) -> int:
    """FLOPs (2 per multiply-add) of the matrix multiplies and convolutions of fn traced on
    inputs of `spec`, as TensorFlow's profiler counts them from the graph."""
    graph = tf.function(fn).get_concrete_function(spec).graph
    options = option_builder.ProfileOptionBuilder.float_operation()
    options.update({"account_type_regexes": ["MatMul", "Conv2D"], "output": "none"})
    return int(model_analyzer.profile(graph, options=options).total_float_ops)


def example_spec(model: HierarchicalVAE) -> tf.TensorSpec:
    return tf.TensorSpec([1, *model.model_config.input_shape], tf.float32)


def forward_flops(model: HierarchicalVAE) -> int:
    """FLOPs of one example's forward pass with one posterior sample (every Dense kernel
    and convolution once)."""
    return graph_flops(lambda x: model(x)["elbo"], example_spec(model))


def per_sample_kernels(model: HierarchicalVAE) -> list[tf.Variable]:
    """The Dense kernels of an MLP model every posterior sample goes through (the bottom-up
    pass of the LVAE, and the VAE's first layer, run once per example)."""
    once = (
        ("up_mlp_", "up_head_")
        if model.model_config.kind == "lvae"
        else ("up_mlp_1/", "up_head_1/")
    )
    return [
        w
        for w in model.trainable_weights
        if w.path.endswith("kernel") and not any(part in w.path for part in once)
    ]


def iw_flops_per_sample(model: HierarchicalVAE) -> int:
    """FLOPs of one more posterior sample in the IW bound: those of log_weights with two
    samples per example minus one (what runs once per example drops out)."""
    spec = example_spec(model)
    two, one = (graph_flops(lambda x, n=n: model.log_weights(x, n, seed=0), spec) for n in (2, 1))
    return two - one


def matmul_peak(size: int = 2048, repeats: int = 20) -> float:
    """Measured float32 matrix-multiply throughput in GFLOP/s (XLA-compiled chain)."""
    a = tf.random.normal([size, size])

    @tf.function(jit_compile=True)
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a) * 1e-3
        return x

    chain(a).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * repeats / best / 1e9


class EpochTimes(keras.callbacks.Callback):
    """Wall time of every epoch, callbacks included."""

    def on_train_begin(self, logs=None):
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def examples_per_epoch(config: RunConfig, data: DatasetArrays) -> int:
    """Training examples in one epoch: whole batches only (drop_remainder)."""
    return steps_per_epoch(data.x_train, config.training.batch_size) * config.training.batch_size


def time_steps(config: RunConfig, data: DatasetArrays, keras_loop: bool = False) -> float:
    """Training examples/s of model.fit on the run's data path (`training_batches`),
    without the run's callbacks: the median epoch after the first (which compiles).
    keras_loop: instead of stacks of k batches run in one compiled call, single batches
    and Keras's own steps_per_execution = k loop (for comparison)."""
    t = config.training
    model = compiled_model(config)
    batches, calls = training_batches(data.x_train, data, t)
    if keras_loop:
        k = steps_per_epoch(data.x_train, t.batch_size) // calls
        model.compile(optimizer=make_optimizer(t), jit_compile=t.jit_compile, steps_per_execution=k)
        batches, calls = batches.unbatch(), calls * k
    timer = EpochTimes()
    model.fit(
        batches, epochs=t.epochs, steps_per_epoch=calls, verbose=0, shuffle=False, callbacks=[timer]
    )
    return examples_per_epoch(config, data) / float(np.median(timer.times[1:]))


def time_fit(config: RunConfig, data: DatasetArrays) -> tuple[float, float, list[float]]:
    """Examples/s of whole training.fit epochs after the first (which compiles): the
    median epoch, and the mean over all of them (test ELBO and per-unit KL every
    monitor_every epochs included, their first compilation too); every epoch's time."""
    timer = EpochTimes()
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(tmp)
        run.write_config(config)
        train_run(run, data=data, print_fn=lambda *_: None, extra_callbacks=[timer])
    examples = examples_per_epoch(config, data)
    later = timer.times[1:]
    return examples / float(np.median(later)), examples / float(np.mean(later)), timer.times


def time_iw(model: HierarchicalVAE, x: np.ndarray, num_samples: int) -> float:
    """IW evaluation throughput in examples x samples per second (compile excluded)."""
    evaluator = Evaluator(model)
    evaluator.score(x[:500], num_samples)
    start = time.perf_counter()
    evaluator.score(x, num_samples)
    return len(x) * num_samples / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    keras.mixed_precision.set_global_policy(args.precision)
    if args.data_dir and args.dataset != "mnist":
        raise ValueError("--data-dir holds real MNIST; leave it out with --dataset norb")
    settings = preset(args.dataset, args.layers, args.model, args.architecture)
    likelihood = args.likelihood or settings.model.likelihood
    settings = dataclasses.replace(
        settings,
        model=dataclasses.replace(
            settings.model, likelihood=likelihood, mixture_components=args.mixture_components
        ),
    )
    data = synthetic(args.dataset, args.data_dir, likelihood)
    xla = not args.no_xla and architecture_of(settings.model).compiles_with_xla
    training = settings.training.replace(
        batch_size=args.batch_size, jit_compile=xla, epochs=args.epochs
    )
    if args.steps_per_execution:
        training = training.replace(steps_per_execution=args.steps_per_execution)
    config = RunConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        model=settings.model,
        training=training,
        final_iw_samples=1,
    )
    model = HierarchicalVAE(settings.model)
    flops = 3 * forward_flops(model)
    peak = matmul_peak()
    print(f"# benchmarks.throughput  {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"command: python -m benchmarks.throughput {' '.join(argv or sys.argv[1:])}")
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{tf.config.threading.get_intra_op_parallelism_threads() or 'all'} threads, "
        f"TF {tf.__version__}, Keras {keras.__version__}"
    )
    print(
        f"model: {args.dataset} {args.model} {args.architecture} {settings.model.latent_dims}, "
        f"{likelihood}"
        + (f" K={args.mixture_components}" if likelihood in DISCRETE_LIKELIHOODS else "")
        + ", "
        f"{model.count_params():,} parameters, batch {args.batch_size}, "
        f"XLA {'on' if xla else 'off'}, precision {args.precision}, "
        f"steps_per_execution {training.steps_per_execution} (requested)"
    )
    print(
        f"matmul peak (float32): {peak:.0f} GFLOP/s; training cost {flops / 1e6:.1f} MFLOP/example"
    )
    if "steps" not in args.skip:
        rate = time_steps(config, data, args.keras_loop)
        print(
            f"train step + pipeline: {rate:,.0f} examples/s "
            f"({rate * flops / 1e9 / peak:.0%} of the matmul peak)"
        )
    if "fit" not in args.skip:
        fit_config = dataclasses.replace(
            config, training=config.training.replace(epochs=args.fit_epochs)
        )
        median, mean, times = time_fit(fit_config, data)
        print(
            f"training.fit epochs: {median:,.0f} examples/s median epoch, {mean:,.0f} mean of "
            f"epochs 2-{len(times)} (epoch times {', '.join(f'{t:.1f}' for t in times)} s; "
            "the first compiles)"
        )
    if "iw" not in args.skip:
        rate = time_iw(model, data.x_test[: args.iw_examples], args.iw_samples)
        iw_flops = iw_flops_per_sample(model)
        print(
            f"IW evaluation (K={args.iw_samples}): {rate:,.0f} examples x samples/s "
            f"({rate * iw_flops / 1e9 / peak:.0%} of the matmul peak at "
            f"{iw_flops / 1e6:.2f} MFLOP per sample); "
            f"projected K=5000 over {len(data.x_test):,} test images: "
            f"{5000 * len(data.x_test) / rate / 60:.1f} min"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak resident memory: {rss:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
