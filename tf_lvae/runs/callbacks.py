"""Keras callbacks of a run's training loop that watch and record it: test-set
evaluation, the per-unit KL record, the TensorBoard images, the per-epoch summary line and
metrics.csv. (The warm-up and learning-rate callbacks are in `tf_lvae.schedules`;
checkpoints in `runs.checkpoints`.)"""

from __future__ import annotations

import io
import math
import time
from functools import partial

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.errors import TrainingFailed
from tf_lvae.evaluation import figures
from tf_lvae.evaluation.analysis import (
    ACTIVE_THRESHOLD,
    heatmap_rows,
    layer_totals,
    mean_unit_kls,
)
from tf_lvae.evaluation.images import COLUMNS, PER_LAYER, PRIOR_SAMPLES, model_images
from tf_lvae.evaluation.scoring import Evaluator, bits_per_dim
from tf_lvae.runs.run_dir import RunDir


def due(epoch: int, every: int, last_epoch: int | None = None) -> bool:
    """Whether 0-based `epoch` ends a period of `every` epochs (0 = never), or is the last."""
    return epoch == last_epoch or (every > 0 and (epoch + 1) % every == 0)


class TestEvaluation(keras.callbacks.Callback):
    """Adds `test_elbo` (β = 1, one sample) to the logs every `monitor_every` epochs and at
    the last epoch, and `test_log_likelihood` (the IW bound with K = iw_samples) every
    `iw_every` epochs, with its `test_bits_per_dim` for 8-bit data (a `bits_scale`, see
    `DatasetArrays.bits_scale`); NaN in the epochs between."""

    def __init__(
        self,
        evaluator: Evaluator,
        x_test: np.ndarray,
        iw_samples: int,
        iw_every: int,
        monitor_every: int,
        bits_scale: int | None = None,
    ):
        super().__init__()
        self.evaluator = evaluator
        self.x_test = x_test
        self.iw_samples = iw_samples
        self.iw_every = iw_every
        self.monitor_every = monitor_every
        dims = math.prod(x_test.shape[1:])
        self.bits = (
            None if bits_scale is None else partial(bits_per_dim, dims=dims, scale=bits_scale)
        )

    def _mean(self, num_samples: int, key: str) -> float:
        return float(np.mean(self.evaluator.score(self.x_test, num_samples)[key]))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        last = self.params["epochs"] - 1
        monitored = due(epoch, self.monitor_every, last)
        logs["test_elbo"] = self._mean(1, "elbo") if monitored else float("nan")
        logs["test_log_likelihood"] = (
            self._mean(self.iw_samples, "log_likelihood")
            if due(epoch, self.iw_every)
            else float("nan")
        )
        if self.bits is not None:
            logs["test_bits_per_dim"] = self.bits(logs["test_log_likelihood"])


class UnitKLRecorder(keras.callbacks.Callback):
    """Records every unit's mean KL(q || p) on fixed examples every `every` epochs and at
    the last (Fig. 5) into the run's unit_kl.npz (`RunDir.write_unit_kl`).

    Entries past the epoch training starts from are dropped, so a resumed run continues
    the record where its checkpoint left it.
    """

    def __init__(self, x: np.ndarray, run: RunDir, every: int = 1):
        super().__init__()
        self.x = x
        self.run = run
        self.every = every

    def on_train_begin(self, logs=None):
        self.epochs: list[int] | None = None
        self.layers: list[list[np.ndarray]] = []

    def on_epoch_begin(self, epoch, logs=None):
        if self.epochs is not None:
            return
        self.epochs = []
        if self.run.unit_kl_path.is_file():
            epochs, layers = self.run.read_unit_kl()
            keep = epochs <= epoch
            self.epochs = epochs[keep].tolist()
            self.layers = [list(layer[keep]) for layer in layers]

    def on_epoch_end(self, epoch, logs=None):
        if not due(epoch, self.every, self.params["epochs"] - 1):
            return
        kls = mean_unit_kls(self.model, self.x).prior
        if not self.layers:
            self.layers = [[] for _ in kls]
        self.epochs.append(epoch + 1)
        for record, kl in zip(self.layers, kls, strict=True):
            record.append(kl)
        self.run.write_unit_kl(self.epochs, self.layers)


class TensorBoardImages(keras.callbacks.Callback):
    """Every `every` epochs and at the last, writes to the run's TensorBoard log, folder
    tensorboard/test (step: the 0-based epoch, as Keras's TensorBoard callback):

    - images: `prior_samples`, `reconstructions` (rows of the fixed test examples x, each
      above its reconstructions), `layer_samples` (Fig. 6b: one row per
      layer, the top one first), all drawn from the stateless `seed` (the model's own
      random stream is not touched, so the run's numbers are the same without them),
      and `unit_kl` (Fig. 5) from the run's unit_kl.npz record so far;
    - scalars: `elbo`, `log_likelihood` and `bits_per_dim`, the test bounds of this epoch's
      logs where measured, and `kl_z1` ... `kl_zL`, each layer's test KL in the latest record.

    Runs after `TestEvaluation` and `UnitKLRecorder`, whose results it shows.
    """

    def __init__(self, run: RunDir, x: np.ndarray, every: int, seed: int = 0):
        super().__init__()
        self.run = run
        self.x = x
        self.every = every
        self.seed = seed

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.run.tensorboard_dir / "test"))

    def on_train_end(self, logs=None):
        self.writer.close()

    def on_epoch_end(self, epoch, logs=None):
        if not due(epoch, self.every, self.params["epochs"] - 1):
            return
        logs = logs or {}
        made = model_images(self.model, self.x, PRIOR_SAMPLES, PER_LAYER, self.seed)
        pairs = figures.paired_rows(self.x, made.reconstructions, COLUMNS)
        with self.writer.as_default(step=epoch):
            for name, tiled in (
                ("prior_samples", figures.mosaic(made.prior, COLUMNS)),
                ("reconstructions", figures.mosaic(np.concatenate(pairs), COLUMNS)),
                ("layer_samples", figures.mosaic(np.concatenate(made.layers[::-1]), PER_LAYER)),
            ):
                tf.summary.image(name, tiled.reshape(1, *tiled.shape[:2], -1))
            for key in ("test_elbo", "test_log_likelihood", "test_bits_per_dim"):
                if np.isfinite(logs.get(key, np.nan)):
                    tf.summary.scalar(key.removeprefix("test_"), logs[key])
            if self.run.unit_kl_path.is_file():
                epochs, unit_kls = self.run.read_unit_kl()
                for i, kl in enumerate(layer_totals([layer[-1] for layer in unit_kls])):
                    tf.summary.scalar(f"kl_z{i + 1}", kl)
                rows, row = heatmap_rows(unit_kls)
                png = figures.unit_kl_heatmaps(epochs, rows, io.BytesIO(), ACTIVE_THRESHOLD, row)
                tf.summary.image("unit_kl", tf.image.decode_png(png.getvalue())[None])
        self.writer.flush()


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training when `limit` optimizer steps in a row were skipped for a loss or
    gradients that were not finite (`skipped_steps`, counted by the model), raising
    TrainingFailed before the epoch's checkpoint: the run keeps its last finite one.

    Steps are counted in whole compiled calls of `steps_per_call` steps: a call with any
    step that was not skipped starts the count again.
    """

    def __init__(self, limit: int, steps_per_call: int):
        super().__init__()
        self.limit = limit
        self.steps_per_call = steps_per_call
        self.in_a_row = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.seen = 0.0

    def on_train_batch_end(self, batch, logs=None):
        skipped = float((logs or {}).get("skipped_steps", 0.0))
        new, self.seen = skipped - self.seen, skipped
        self.in_a_row = self.in_a_row + int(new) if new >= self.steps_per_call else 0
        if self.in_a_row >= self.limit:
            raise TrainingFailed(
                f"training is no longer finite: the last {self.in_a_row} optimizer steps (in "
                f"epoch {self.epoch + 1}) had a loss or gradients that were not finite and were "
                "skipped; the run keeps its last checkpoint. Lower the learning rate (--lr) "
                "and start again, or resume from that checkpoint with --resume"
            )


class EpochSummary(keras.callbacks.Callback):
    """Prints one line per epoch: ELBO, test bounds, KL per layer, β, learning rate, time."""

    def __init__(self, print_fn=print):
        super().__init__()
        self.print_fn = print_fn

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"epoch {epoch + 1}/{self.params['epochs']}", f"elbo {logs['elbo']:.2f}"]
        for key in ("val_elbo", "test_elbo", "test_log_likelihood"):
            if key in logs and np.isfinite(logs[key]):
                parts.append(f"{key} {logs[key]:.2f}")
        layers = sorted((k for k in logs if k.startswith("kl_z")), key=lambda k: int(k[4:]))
        parts.append("kl " + " ".join(f"{logs[k]:.2f}" for k in layers))
        parts.append(f"beta {logs['beta']:.3f}")
        if logs.get("skipped_steps"):
            parts.append(f"skipped steps {logs['skipped_steps']:.0f} (not finite)")
        if "learning_rate" in logs:
            parts.append(f"lr {logs['learning_rate']:.2e}")
        parts.append(f"{time.perf_counter() - self.start:.1f} s")
        self.print_fn(" | ".join(parts))


class MetricsCSV(keras.callbacks.Callback):
    """Appends the logs of every epoch to the run's metrics.csv, column `epoch` = epochs
    done (`RunDir.write_metric_rows`).

    A resumed run first drops rows past the epoch it starts from (an epoch that was
    logged but not checkpointed before a crash is redone and logged once).
    """

    def __init__(self, run: RunDir):
        super().__init__()
        self.run = run

    def on_train_begin(self, logs=None):
        self.rows: list[dict[str, str]] | None = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.rows is None:
            self.rows = [r for r in self.run.read_metric_rows() if int(r["epoch"]) <= epoch]

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": str(epoch + 1), **{k: repr(float(v)) for k, v in logs.items()}})
        self.run.write_metric_rows(self.rows)
