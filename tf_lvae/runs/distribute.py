"""Which tf.distribute strategy a run trains under, and what it changes in the trainer.

Under "mirrored" (local devices) and "multiworker" (the cluster in TF_CONFIG; see
`runs.cluster` and `runs.loop`) every replica takes batch_size / replicas examples of
each global batch; the model divides its loss by the number of replicas and
`ClippedAdam` sums the replicas' gradients before clipping, so a step is the one-device
step on the global batch (batch norm aside: per replica, or the global batch's with
synchronized_batch_norm). Under either, XLA and several steps per call are off.
"""

from __future__ import annotations

import json
import os
import signal

import tensorflow as tf

from tf_lvae.config import CLUSTER_TIMEOUT, TrainingConfig, device_name
from tf_lvae.run_config import RunConfig


def split_cpu(devices: tuple[str, ...]) -> None:
    """Splits the CPU into as many logical devices as `devices` names CPUs (CPU:0, CPU:1,
    ...), so that a mirrored strategy runs on a machine without GPUs (for tests and
    benchmarks: the replicas share the same cores). Must run before TensorFlow starts its
    runtime."""
    wanted = sum(1 for d in devices if device_name(d).startswith("CPU:"))
    if not wanted:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) >= wanted:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * wanted
        )
    except RuntimeError as err:
        raise ValueError(
            f"devices {', '.join(devices)} need the CPU split into {wanted} logical devices, "
            "which TensorFlow allows only before it starts: here it had started already "
            f"({err}). Start a new process (python -m training.fit does this first)"
        ) from err


def check_devices(devices: tuple[str, ...]) -> None:
    """Raises ValueError, listing the devices TensorFlow sees here, unless each of `devices`
    is one of them (after `split_cpu`): a strategy over a device that does not exist
    hangs, or runs on another device while naming it."""
    local = [device_name(d.name) for d in tf.config.list_logical_devices()]
    missing = [d for d in devices if device_name(d) not in local]
    if missing:
        raise ValueError(
            f"--devices {', '.join(missing)}: no such device here; TensorFlow sees "
            f"{', '.join(local)} (the CPU is split into as many logical devices as --devices "
            "names CPUs: CPU:0, CPU:1, ...)"
        )


def check_tf_config() -> int:
    """The number of tasks in the cluster of the TF_CONFIG environment variable; raises
    ValueError, saying what is missing, unless it names a cluster and this process's task
    in it, as MultiWorkerMirroredStrategy needs."""
    example = (
        'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\' on the first host, index 1 on the second'
    )
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(f"--strategy multiworker needs the cluster in TF_CONFIG ({example})")
    try:
        tf_config = json.loads(text)
        cluster, task = tf_config["cluster"], tf_config["task"]
        if task["type"] not in ("chief", "worker"):
            raise ValueError(f"task type {task['type']!r}: a chief or a worker")
        hosts = cluster[task["type"]]
        if not 0 <= int(task["index"]) < len(hosts):
            raise IndexError(f"task index {task['index']} of {len(hosts)} {task['type']}s")
        for kind, addresses in cluster.items():
            for address in addresses:
                _check_address(kind, address)
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise ValueError(f"TF_CONFIG is not a cluster and a task ({err}): {example}") from None
    return sum(len(hosts) for hosts in cluster.values())


def _check_address(kind: str, address: object) -> None:
    """Raises ValueError unless a task's address is HOST:PORT, the port in 1..65535."""
    host, _, port = str(address).rpartition(":")
    if not (isinstance(address, str) and host and port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"the {kind} address {address!r} is not HOST:PORT, PORT in 1..65535")


def connect_cluster(timeout: int = CLUSTER_TIMEOUT) -> tf.distribute.MultiWorkerMirroredStrategy:
    """A MultiWorkerMirroredStrategy over the cluster in TF_CONFIG, made once every task has
    connected. TensorFlow waits for them without letting Python run (Ctrl-C and SIGTERM
    wait too), so a SIGALRM after `timeout` s ends the process (exit status 142), as the
    line printed first says."""
    tasks = check_tf_config()
    print(
        f"connecting to the {tasks} tasks of the cluster in TF_CONFIG; this process stops if "
        f"they have not all started within {timeout} s",
        flush=True,
    )
    signal.alarm(timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    finally:
        signal.alarm(0)


def make_strategy(
    config: TrainingConfig, cluster_timeout: int = CLUSTER_TIMEOUT
) -> tf.distribute.Strategy:
    """The run's strategy: TensorFlow's default (one device), a MirroredStrategy over
    config.devices (none named: every local GPU, else the CPU) or a
    MultiWorkerMirroredStrategy over the cluster in TF_CONFIG (`connect_cluster`), which
    must be made before TensorFlow runs anything else."""
    if config.strategy == "default":
        return tf.distribute.get_strategy()
    if config.strategy == "multiworker":
        return connect_cluster(cluster_timeout)
    split_cpu(config.devices)
    check_devices(config.devices)
    return tf.distribute.MirroredStrategy(list(config.devices) or None)


def check_batch_split(strategy: tf.distribute.Strategy | None, config: RunConfig) -> None:
    """Raises ValueError when the run's global batch does not split evenly across the
    strategy's replicas (None: one device), or leaves each one example for batch norm."""
    replicas = (strategy or tf.distribute.get_strategy()).num_replicas_in_sync
    batch_size = config.training.batch_size
    if batch_size % replicas:
        raise ValueError(
            f"--batch-size {batch_size} does not split across {replicas} replicas: "
            f"give a multiple of {replicas} (the batch size is the global batch)"
        )
    model = config.model
    if batch_size == replicas > 1 and model.batch_norm and not model.synchronized_batch_norm:
        raise ValueError(
            f"--batch-size {batch_size} gives each of the {replicas} replicas one example, "
            "and batch norm on one example makes every normalized unit 0: give "
            f"--batch-size {2 * replicas} or more, or --sync-batch-norm (the global batch's "
            "statistics)"
        )
