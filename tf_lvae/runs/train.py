"""Running a training run end to end: data, model, callbacks, resume, final evaluation.

`train_run(RunDir)` does everything `python -m training.fit` does once the run's
config.json is written, and picks up after any interruption: the latest checkpoint
restores weights, optimizer, epoch and random stream, and the data of every epoch
depends only on (seed, epoch).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.architecture import architecture_of
from tf_lvae.config import PIXEL_VALUES, TrainingConfig
from tf_lvae.data import DatasetArrays, eval_dataset, steps_per_epoch, train_dataset
from tf_lvae.data.splits import load_run_data, split_examples, split_images, test_images
from tf_lvae.errors import TrainingFailed
from tf_lvae.evaluation.batch_norm import set_batch_norm_statistics
from tf_lvae.evaluation.images import RECONSTRUCTED
from tf_lvae.evaluation.scoring import Evaluator, log_likelihood_report, test_numbers
from tf_lvae.model import HierarchicalVAE
from tf_lvae.optimizer import make_optimizer
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.callbacks import (
    EpochSummary,
    MetricsCSV,
    StopOnNonFinite,
    TensorBoardImages,
    TestEvaluation,
    UnitKLRecorder,
)
from tf_lvae.runs.checkpoints import (
    Checkpoint,
    final_checkpoint,
    latest_intact_checkpoint,
    own_model_file,
    restore_checkpoint,
)
from tf_lvae.runs.cluster import cluster_errors, is_multi_worker, share_config, share_state
from tf_lvae.runs.distribute import check_batch_split, make_strategy
from tf_lvae.runs.loop import fit_in_loop
from tf_lvae.runs.run_dir import RunDir, write_atomic
from tf_lvae.schedules import WarmUp, learning_rate_decay


def steps_per_execution(steps: int, requested: int) -> int:
    """The divisor of the steps per epoch nearest to `requested` (by ratio; ties: smaller),
    so that every compiled call runs whole groups of steps within one epoch."""
    divisors = [d for d in range(1, steps + 1) if steps % d == 0]
    return min(divisors, key=lambda d: (max(d / requested, requested / d), d))


def compiled_model(
    config: RunConfig, strategy: tf.distribute.Strategy | None = None
) -> HierarchicalVAE:
    """A new model for the run, built and compiled for training in the strategy's scope
    (default: one device), its optimizer's variables made; its initial weights depend only
    on the run's seed. Under a strategy XLA is off: TF 2.21 cannot compile the mirrored step
    (each replica's variables live on its own device)."""
    t = config.training
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(t.seed)
    with strategy.scope():
        model = HierarchicalVAE(
            config.model,
            mc_samples=t.mc_samples,
            iw_samples=t.iw_samples,
            seed=t.seed,
            free_bits=t.free_bits,
            free_bits_group=t.free_bits_group,
        )
        model.compile(
            optimizer=make_optimizer(t),
            jit_compile=t.jit_compile
            and t.strategy == "default"
            and architecture_of(config.model).compiles_with_xla,
        )
        # Keras would make them in the first compiled step, which tf.function then traces
        # twice (once making variables, once using them): the same variables, made here
        model.optimizer.build(model.trainable_variables)
    return model


def training_batches(
    x_train: np.ndarray, data: DatasetArrays, config: TrainingConfig, initial_epoch: int = 0
) -> tuple[tf.data.Dataset, int]:
    """The training data of epochs initial_epoch.. (binarized or dequantized as `data`
    asks) as stacks of k batches [k, batch_size, *image_shape], with k =
    steps_per_execution(...): the model runs each stack's k steps in one compiled call.
    Under a strategy, single batches [batch_size, *image_shape] (k = 1: Keras 3.15 cannot
    run a strategy's steps in a loop inside one call). Returns (dataset, stacks or
    batches per epoch)."""
    steps = steps_per_epoch(x_train, config.batch_size)
    batches = train_dataset(
        x_train,
        batch_size=config.batch_size,
        binarize=data.binarize,
        dequantize_levels=data.dequantize_levels,
        seed=config.seed,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
    )
    if config.strategy != "default":
        return batches, steps
    k = steps_per_execution(steps, config.steps_per_execution)
    return batches.batch(k, drop_remainder=True), steps // k


def _restore(model: HierarchicalVAE, run: RunDir, config: RunConfig) -> int:
    """Restores the latest checkpoint of this run, else of the run it starts from
    (fine-tuning: recorded with `RunDir.write_start`); returns the epochs already done."""
    latest = latest_intact_checkpoint(run)
    if latest is not None:
        return restore_checkpoint(model, latest[1])
    if config.init_from is None:
        return 0
    epochs = restore_checkpoint(model, final_checkpoint(RunDir(config.init_from)))
    run.write_start(config.init_from, epochs, int(model.optimizer.iterations.numpy()))
    return epochs


def _callbacks(
    run: RunDir | None,
    config: RunConfig,
    evaluator: Evaluator,
    x_test: np.ndarray,
    steps_per_call: int,
    print_fn: Callable,
    bits_scale: int | None = None,
) -> list[keras.callbacks.Callback]:
    """The run's callbacks. With no `run` (a worker of a multi-worker run, not its chief),
    only those that steer training and the epoch line: the chief records the run.
    bits_scale: the data's (`DatasetArrays.bits_scale`), for the test bits/dim."""
    t = config.training
    steering = [
        StopOnNonFinite(t.max_consecutive_skips, steps_per_call),
        WarmUp(t.warmup_epochs),
        learning_rate_decay(t),
    ]
    if run is None:
        return [*steering, EpochSummary(print_fn)]
    recording = [
        TestEvaluation(
            evaluator,
            x_test,
            config.eval_iw_samples,
            config.eval_every,
            config.monitor_every,
            bits_scale,
        )
    ]
    if config.unit_kl_examples > 0:
        recording.append(
            UnitKLRecorder(x_test[: config.unit_kl_examples], run, config.monitor_every)
        )
    recording.append(TensorBoardImages(run, x_test[:RECONSTRUCTED], config.monitor_every))
    return [
        *steering,
        *recording,
        keras.callbacks.ProgbarLogger(),  # before the summary: the bar ends, then its line
        EpochSummary(print_fn),
        MetricsCSV(run),
        keras.callbacks.TensorBoard(str(run.tensorboard_dir), write_graph=False),
        Checkpoint(run),
    ]


def is_finished(run: RunDir, config: RunConfig) -> bool:
    """Whether the run trained all its epochs and wrote its results and an intact final
    model (a damaged model.keras is rebuilt by `train_run`). Raises ValueError when its
    model.keras is another configuration's (`own_model_file`)."""
    latest = run.latest_checkpoint()
    done = latest is not None and latest[0] >= config.training.epochs
    return done and run.results_path.is_file() and own_model_file(run, config)


def fit_run(
    run: RunDir | None,
    config: RunConfig,
    data: DatasetArrays,
    print_fn: Callable = print,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
) -> HierarchicalVAE:
    """Trains the run's model from its latest checkpoint (or the run it fine-tunes) to its
    last epoch, with the run's callbacks (a checkpoint every epoch); returns the model.

    Under a multi-worker strategy every worker calls this: the chief with its `run`, which
    it restores and sends to the others (`cluster.share_state`); the others with run=None:
    they train and write nothing. `strategy`: default `make_strategy(config.training)`.
    """
    t = config.training
    x_train = split_examples(data, "train", config.validation, t.seed)
    validation = None
    if config.validation:
        x_val = split_images(data, "validation", config.validation, t.seed)
        validation = eval_dataset(x_val, batch_size=t.batch_size)
    x_test = test_images(data)
    multi_worker = t.strategy == "multiworker"
    if multi_worker and not is_multi_worker(strategy):
        raise ValueError(
            "this run trains on a cluster (strategy 'multiworker'): every worker must make "
            "its MultiWorkerMirroredStrategy before TensorFlow runs anything and pass it "
            "here, as python -m training.fit does"
        )
    strategy = strategy or make_strategy(t)
    check_batch_split(strategy, config)
    model = compiled_model(config, strategy)
    with strategy.scope():
        epochs_done = 0 if run is None else _restore(model, run, config)
        if multi_worker:
            epochs_done = share_state(strategy, model, epochs_done)
    if epochs_done >= t.epochs:
        return model
    print_fn(
        f"training {config.model.kind} on {data.name} ({len(x_train)} examples): "
        f"epochs {epochs_done + 1}..{t.epochs}"
        + (f" into {run.path}" if run else "; the chief writes the run directory")
    )
    replicas = strategy.num_replicas_in_sync
    if t.strategy != "default":
        print_fn(
            f"{replicas} replicas ({', '.join(strategy.extended.worker_devices)} here), "
            f"{t.batch_size // replicas} examples each per step; XLA and several steps per "
            "call are off under a strategy"
        )
    batches, calls_per_epoch = training_batches(x_train, data, t, epochs_done)
    steps = steps_per_epoch(x_train, t.batch_size)
    evaluator = Evaluator(model, jit_compile=t.jit_compile)
    callbacks = [
        *_callbacks(
            run, config, evaluator, x_test, steps // calls_per_epoch, print_fn, data.bits_scale
        ),
        *extra_callbacks,
    ]
    arguments = {
        "epochs": t.epochs,
        "initial_epoch": epochs_done,
        "steps_per_epoch": calls_per_epoch,
        "validation_data": validation,
        "callbacks": callbacks,
        "verbose": 1 if sys.stdout.isatty() else 0,
    }
    if multi_worker:  # Keras's fit cannot run under this strategy (loop.py)
        fit_in_loop(model, strategy, batches, **arguments)
    else:
        model.fit(batches, shuffle=False, **arguments)
    return model


def save_final_model(
    run: RunDir, config: RunConfig, model: HierarchicalVAE, data: DatasetArrays, print_fn
) -> dict[str, Any]:
    """Recomputes the trained model's batch-norm statistics from one pass over the training
    set (docs/method.md §4) and saves it as model.keras; returns what was used."""
    batch_norm = set_batch_norm_statistics(
        model, data, config, "recomputed", config.training.seed, print_fn
    )
    write_atomic(run.model_path, model.save)
    return batch_norm


def final_results(
    config: RunConfig,
    model: HierarchicalVAE,
    data: DatasetArrays,
    batch_norm: dict[str, Any],
    print_fn: Callable = print,
) -> dict[str, Any]:
    """The run's results.json: the test IW log-likelihood (K = final_iw_samples) and ELBO
    of the final model, with what produced them."""
    x_test = test_images(data)
    print_fn(
        f"final test log-likelihood: IW bound with K = {config.final_iw_samples} "
        f"over {len(x_test)} test examples"
    )
    evaluator = Evaluator(model, jit_compile=config.training.jit_compile)
    return {
        "dataset": data.name,
        "data_source": data.source,
        "epochs": config.training.epochs,
        "batch_norm_statistics": batch_norm,
        "test": log_likelihood_report(
            evaluator,
            x_test,
            config.final_iw_samples,
            seed=config.training.seed,
            verbose=1,
            bits_scale=data.bits_scale,
        ),
    }


# Optimizer steps at β = 1 below which a fall of the training ELBO is not taken as
# divergence: a run this short has hardly started to learn.
FEW_STEPS = 100


def training_warning(
    config: RunConfig, results: dict[str, Any], run: RunDir, steps_per_epoch: int
) -> str | None:
    """A warning when the final numbers look wrong, saying what they show: training
    diverged when the training ELBO fell from the first epoch after the warm-up (β = 1;
    during it the ELBO may fall as β rises) to the last, FEW_STEPS or more steps later;
    otherwise a model of discrete values whose test log-likelihood is below that of the
    uniform distribution on them (a Bernoulli's -D log 2, every pixel at 0.5; a logistic
    mixture's -D log 256, 8 bits/dim) has not learned the data yet."""
    rows = [row for row in run.read_metric_rows() if row.get("elbo")]
    elbos = [float(row["elbo"]) for row in rows if float(row.get("beta") or 1.0) >= 1.0]
    if (len(elbos) - 1) * steps_per_epoch >= FEW_STEPS and elbos[-1] < elbos[0]:
        return (
            f"the training ELBO fell from {elbos[0]:.2f} in the first epoch after the warm-up "
            f"to {elbos[-1]:.2f} in the last: training diverged. Lower the learning rate "
            "(--lr) and train again"
        )
    ll = results["test"]["log_likelihood"]
    values = PIXEL_VALUES.get(config.model.likelihood)
    uniform = None if values is None else -config.model.data_dim * math.log(values)
    if uniform is not None and ll < uniform:
        steps = config.training.epochs * steps_per_epoch
        return (
            f"the test log-likelihood {ll:.2f} is below {uniform:.1f}, that of a model giving "
            f"each of a pixel's {values} values the same probability: after {steps:,} "
            "optimizer steps the model has not learned the data yet. Train it longer (--resume "
            "--epochs N); if it stays below, lower the learning rate (--lr)"
        )
    return None


@cluster_errors()
def train_run(
    run: RunDir,
    data: DatasetArrays | None = None,
    print_fn: Callable = print,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
) -> dict[str, Any]:
    """Trains (or resumes) the run in `run` to its last epoch, saves the final model with
    recomputed batch-norm statistics as model.keras and writes results.json.

    Returns the results. A finished run is left as it is. `data` may be passed to skip
    loading the dataset; `extra_callbacks` run after the run's own (e.g. timers).
    `strategy`: the run's, made before TensorFlow ran anything (`training.fit` does; under
    a multi-worker strategy this is the chief, the others run `train_worker`); default
    `make_strategy(config.training)`. The final batch-norm statistics and test
    log-likelihood are computed on this process alone.
    """
    config = run.read_config()
    finished = is_finished(run, config)
    if is_multi_worker(strategy):
        share_config(strategy, None if finished else config)
    if finished:
        print_fn(f"{run.path} is finished; its results are in {run.results_path}")
        return run.read_results()
    run.check_records()
    for path in run.remove_temporary_files():
        print_fn(f"removed {path}, left by an interrupted write")
    data = load_run_data(config, data)
    model = fit_run(run, config, data, print_fn, extra_callbacks, strategy)
    batch_norm = save_final_model(run, config, model, data, print_fn)
    results = final_results(config, model, data, batch_norm, print_fn)
    start = run.read_start()
    if start is not None:
        results["started_from"] = start
    if not all(np.isfinite(results["test"][key]) for key in ("log_likelihood", "elbo")):
        raise TrainingFailed(
            f"the final test log-likelihood of {run.path} is {results['test']['log_likelihood']}"
            f" and its ELBO {results['test']['elbo']}: not finite, so no results.json was "
            "written. Lower the learning rate (--lr) and train again"
        )
    run.write_results(results)
    print_fn(f"test {test_numbers(results['test'])} -> {run.results_path}")
    x_train = split_examples(data, "train", config.validation, config.training.seed)
    steps = steps_per_epoch(x_train, config.training.batch_size)
    warning = training_warning(config, results, run, steps)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return results


@cluster_errors()
def train_worker(
    strategy: tf.distribute.Strategy,
    data_dir: str | None = None,
    data: DatasetArrays | None = None,
    print_fn: Callable = print,
) -> HierarchicalVAE | None:
    """A worker of a multi-worker run other than its chief: takes the run's config and
    training state from the chief, trains with the cluster and writes nothing. Returns
    the trained model (None when the chief's run was finished). `data_dir`: where this
    worker finds the dataset (default: the chief's); `data`: the dataset, not loaded."""
    config = share_config(strategy, None)
    if config is None:
        print_fn("the chief's run is finished: nothing to train")
        return None
    config = dataclasses.replace(config, data_dir=data_dir or config.data_dir)
    model = fit_run(None, config, load_run_data(config, data), print_fn, strategy=strategy)
    print_fn("training done; the chief computes the final results and writes the run")
    return model
