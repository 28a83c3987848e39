"""What the workers of a multi-worker run share, and how they fail together.

Only the chief (TF_CONFIG's "chief" task, else worker 0) has the run directory. At the
start it sends every worker the run's config (`share_config`) and, once the model is
built, the training state it restored (`share_state`): weights, optimizer, β, the random
stream and the epochs done, so that a resumed cluster continues from the chief's last
checkpoint whatever the workers hold. Both travel as all-reduces (SUM) to which the other
workers contribute -0.0 (0 for integers), so they arrive exactly, x + (-0.0) = x for every
float x, in their own dtypes (float32 and int64; collectives take no bytes or booleans).

A worker that stops makes the next collective of every other worker fail after at most
about TensorFlow's heartbeat timeout (10 s; docs/results/performance.md); `cluster_errors`
turns that error into one message. Work without collectives (the chief's evaluations and
checkpoints between epochs) runs to its end before a lost worker is noticed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from tf_lvae.errors import TrainingFailed
from tf_lvae.model import HierarchicalVAE
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.checkpoints import checkpoint_variables

# The errors of a collective whose peer stopped (a killed, crashed or unreachable worker).
PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.DeadlineExceededError,
)


def is_multi_worker(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether `strategy` trains on a cluster of processes (MultiWorkerMirroredStrategy)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run directory: the chief of a multi-worker cluster,
    or the only process of any other strategy."""
    return strategy.extended.should_checkpoint


def broadcast_from_chief(
    strategy: tf.distribute.Strategy, arrays: list[np.ndarray]
) -> list[np.ndarray]:
    """The chief's `arrays` on every worker (the others pass arrays of the same shapes and
    dtypes, whose values are ignored): one all-reduce SUM per dtype, to which only replica
    0, on the chief, contributes values (the others -0.0 or 0)."""
    out: list[np.ndarray | None] = [None] * len(arrays)
    for dtype in sorted({a.dtype.str for a in arrays}):
        indices = [i for i, a in enumerate(arrays) if a.dtype.str == dtype]
        flat = np.concatenate([arrays[i].ravel() for i in indices])

        def contribution(context, flat=flat):
            first = context.replica_id_in_sync_group == 0
            return tf.constant(flat if first else np.full_like(flat, -0.0))

        values = strategy.experimental_distribute_values_from_function(contribution)
        total = strategy.reduce("SUM", values, axis=None).numpy()
        ends = np.cumsum([arrays[i].size for i in indices])
        for i, end in zip(indices, ends, strict=True):
            out[i] = total[end - arrays[i].size : end].reshape(arrays[i].shape)
    return out


def share_config(strategy: tf.distribute.Strategy, config: RunConfig | None) -> RunConfig | None:
    """On the chief, sends `config` (None: there is nothing to train) to every worker and
    returns it; on a worker (`config` ignored), returns the chief's."""
    text = np.frombuffer(json.dumps(config.to_dict()).encode(), np.uint8) if config else []
    (length,) = broadcast_from_chief(strategy, [np.array([len(text)], np.int64)])
    if not length[0]:
        return None
    buffer = np.zeros(int(length[0]), np.int64)
    if is_chief(strategy):
        buffer[:] = text
    (received,) = broadcast_from_chief(strategy, [buffer])
    return RunConfig.from_dict(json.loads(received.astype(np.uint8).tobytes()))


def share_state(strategy: tf.distribute.Strategy, model: HierarchicalVAE, epochs_done: int) -> int:
    """Sets every worker's model and optimizer to the chief's; returns the chief's
    `epochs_done`. Call in the strategy's scope, after the chief restored its checkpoint."""
    variables = checkpoint_variables(model)
    arrays = [np.asarray(v.numpy()) for v in variables]
    received = broadcast_from_chief(strategy, [np.array([epochs_done], np.int64), *arrays])
    for variable, value in zip(variables, received[1:], strict=True):
        variable.assign(value)
    return int(received[0][0])


@contextlib.contextmanager
def cluster_errors() -> Iterator[None]:
    """Turns the error of a collective whose peer stopped into one TrainingFailed that says
    what happened and how to resume (usable as a decorator); other errors pass unchanged."""
    try:
        yield
    except PEER_ERRORS as error:
        if "Collective ops is aborted by" not in error.message:
            raise
        lines = [line.strip() for line in error.message.splitlines() if line.strip()]
        first = next(i for i, line in enumerate(lines) if "aborted by:" in line)
        cause = " ".join(lines[first : first + 2]).split("aborted by:")[-1].strip()
        raise TrainingFailed(
            f"another worker of the cluster stopped (TensorFlow: {cause}); this one stops "
            "too. If that was the chief, its own output says why. The run keeps the chief's "
            "last checkpoint: start every worker again with the same command (with "
            "--strategy multiworker) and --resume"
        ) from error
