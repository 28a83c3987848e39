"""Run in a fresh process (the CPU is split into 2 logical devices before TensorFlow starts):
three optimizer steps of a 2-replica MirroredStrategy against the one-device reference, of
the MLP model or, with the argument `conv`, the convolutional one; a second argument names
the likelihood (default bernoulli; the binary X are levels too). Prints JSON: the largest
weight difference from the reference and how far the weights moved.

Without synchronized batch norm the reference is the mean of the two halves' losses, each
with its replica's seed; with it, the reference normalizes with the global batch's
statistics (checked on the batch-norm MLP block, whose output has no noise).
"""

import json
import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tf_lvae import bounds  # noqa: E402
from tf_lvae.config import ModelConfig, TrainingConfig  # noqa: E402
from tf_lvae.layers import MLPBlock  # noqa: E402
from tf_lvae.model import HierarchicalVAE  # noqa: E402
from tf_lvae.optimizer import make_optimizer  # noqa: E402

STEPS = 3
X = (np.random.default_rng(0).uniform(size=(32, 6, 6)) < 0.3).astype("float32")
STRATEGY = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
ARCHITECTURE = sys.argv[1] if len(sys.argv) > 1 else "mlp"
LIKELIHOOD = sys.argv[2] if len(sys.argv) > 2 else "bernoulli"
SIZES = {
    "mlp": {"latent_dims": (4, 3), "hidden_dims": (16, 8)},
    "conv": {"latent_dims": (3, 2), "hidden_dims": (4, 4), "strides": (2, 2)},
}


def model() -> HierarchicalVAE:
    keras.utils.set_random_seed(0)
    m = HierarchicalVAE(
        ModelConfig(
            input_shape=(6, 6),
            architecture=ARCHITECTURE,
            likelihood=LIKELIHOOD,
            mixture_components=2,
            **SIZES[ARCHITECTURE],
        ),
        seed=0,
    )
    m.compile(optimizer=make_optimizer(TrainingConfig(clipnorm=0.5, clipvalue=0.05)))
    return m


def reference_step(m: HierarchicalVAE) -> None:
    seed = tf.cast(m.seed_generator.next(), tf.int32)
    with tf.GradientTape() as tape:
        losses = []
        for r in range(2):
            half_seed = tf.random.experimental.stateless_fold_in(seed, r)
            log_px, samples = m._log_px_and_samples(X[16 * r : 16 * (r + 1)], 1, half_seed, True)
            kl = tf.add_n(bounds.layer_kls(samples, "mc"))
            losses.append(-bounds.training_objective(log_px, kl, m.beta, 1, 1))
        loss = tf.add_n(losses) / 2
    m.optimizer.apply(tape.gradient(loss, m.trainable_weights), m.trainable_weights)


def step_difference() -> dict:
    reference = model()
    start = [w.numpy() for w in reference.trainable_weights]
    with STRATEGY.scope():
        mirrored = model()
    batch = next(iter(STRATEGY.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(X).batch(32)
    )))  # fmt: skip
    for _ in range(STEPS):
        reference_step(reference)
        STRATEGY.run(mirrored._optimizer_step, args=(batch,))
    pairs = zip(mirrored.trainable_weights, reference.trainable_weights, start, strict=True)
    diffs = [np.abs(a.numpy() - b.numpy()).max() for a, b, _ in pairs]
    moved = [
        np.abs(b.numpy() - s).max() for b, s in zip(reference.trainable_weights, start, strict=True)
    ]
    return {"max_difference": float(max(diffs)), "moved": float(max(moved))}


def synchronized_difference() -> dict:
    """MLPBlock(synchronized=True) on 2 replicas against one device on the global batch:
    outputs and gradients of the kernel."""
    h = np.random.default_rng(1).normal(size=(32, 5)).astype("float32")
    keras.utils.set_random_seed(0)
    one = MLPBlock(8, num_layers=1)
    one.build((None, 5))
    with tf.GradientTape() as tape:
        out = one(h, training=True)
        loss = tf.reduce_sum(out**2)
    grad = tape.gradient(loss, one.trainable_weights)[0]
    with STRATEGY.scope():
        keras.utils.set_random_seed(0)
        sync = MLPBlock(8, num_layers=1, synchronized=True)
        sync.build((None, 5))

    def replica_fn(x):
        with tf.GradientTape() as tape:
            out = sync(x, training=True)
            loss = tf.reduce_sum(out**2)
        g = tape.gradient(loss, sync.trainable_weights)[0]
        return out, tf.distribute.get_replica_context().all_reduce("SUM", g)

    dataset = tf.data.Dataset.from_tensor_slices(h).batch(32)
    outs, grads = STRATEGY.run(replica_fn, args=(next(iter(
        STRATEGY.experimental_distribute_dataset(dataset)
    )),))  # fmt: skip
    out_m = np.concatenate([o.numpy() for o in STRATEGY.experimental_local_results(outs)])
    grad_m = STRATEGY.experimental_local_results(grads)[0].numpy()
    return {
        "output_difference": float(np.abs(out_m - out.numpy()).max()),
        "gradient_difference": float(np.abs(grad_m - grad.numpy()).max()),
        "gradient_size": float(np.abs(grad.numpy()).max()),
    }


if __name__ == "__main__":
    print(json.dumps({"step": step_difference(), "synchronized": synchronized_difference()}))
    sys.stdout.flush()
