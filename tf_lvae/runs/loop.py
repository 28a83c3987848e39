"""The training loop of a multi-worker run: Keras's `fit` for the strategy its fit cannot run.

Keras 3's `fit` fails under MultiWorkerMirroredStrategy when it reduces the replicas'
metrics (keras-team/keras#20585; measured with Keras 3.15.1: "Invalid reduction
dimension 0 for input with 0 dimensions"). `fit_in_loop` runs what `fit` runs, and
nothing else: the model's own `train_step` and `test_step` on every replica through
`strategy.run`; each replica's metrics averaged across the replicas, as `fit` reduces
them (one all-reduce of a vector per step: every worker logs the same values); and the
same Keras callbacks, their train, epoch and batch hooks called at the same points (the
validation pass calls no test hooks).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


def replica_batches(
    batches: tf.data.Dataset, context: tf.distribute.InputContext
) -> tf.data.Dataset:
    """This worker's part of every global batch [n, ...]: for each of its replicas, in order,
    the slice [r * n // R, (r + 1) * n // R) where r is the replica's global index and R
    the replica count; so the data of a step depends only on the global batch and the
    replica. A batch with fewer examples than replicas (the last of an evaluation set)
    is left out."""
    replicas = context.num_replicas_in_sync
    local = replicas // context.num_input_pipelines
    first = context.input_pipeline_id * local

    def parts(batch):
        n = tf.shape(batch)[0]

        def part(r):
            r = tf.cast(r, tf.int32)
            return batch[r * n // replicas : (r + 1) * n // replicas]

        return tf.data.Dataset.range(first, first + local).map(part)

    return batches.filter(lambda batch: tf.shape(batch)[0] >= replicas).flat_map(parts)


def _distribute(strategy: tf.distribute.Strategy, batches: tf.data.Dataset):
    return strategy.distribute_datasets_from_function(
        lambda context: replica_batches(batches, context)
    )


def fit_in_loop(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    batches: tf.data.Dataset,
    *,
    epochs: int,
    initial_epoch: int,
    steps_per_epoch: int,
    callbacks: Sequence[keras.callbacks.Callback],
    validation_data: tf.data.Dataset | None = None,
    verbose: int = 0,
) -> None:
    """Trains `model` (compiled in `strategy`'s scope) on global `batches` [B, ...] from
    `initial_epoch` to `epochs`, `steps_per_epoch` steps each, as `model.fit` would with
    these arguments; the metrics of `validation_data` are logged as val_*."""

    def on_every_replica(step):
        """(batch -> logs): `step` on every replica, its metrics averaged across them."""
        names: list[str] = []

        def metrics_vector(batch):
            results = step(batch)
            names[:] = list(results)
            return tf.stack([tf.cast(results[name], tf.float32) for name in names])

        @tf.function(autograph=False)
        def run(batch):
            return strategy.reduce("MEAN", strategy.run(metrics_vector, args=(batch,)), axis=None)

        def logs(batch) -> dict[str, float]:
            values = run(batch).numpy().tolist()  # traces `metrics_vector` the first time
            return dict(zip(names, values, strict=True))

        return logs

    train, test = on_every_replica(model.train_step), on_every_replica(model.test_step)
    data = iter(_distribute(strategy, batches))
    validation = None if validation_data is None else _distribute(strategy, validation_data)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), model=model, verbose=verbose, epochs=epochs, steps=steps_per_epoch
    )
    model.stop_training = False
    logs: dict[str, float] = {}
    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            logs = train(next(data))
            callback_list.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        if validation is not None:
            model.reset_metrics()
            values = {}
            for batch in validation:
                values = test(batch)
            logs = {**logs, **{f"val_{name}": value for name, value in values.items()}}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
