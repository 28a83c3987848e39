"""The models' outputs for fixed seeds, weights and inputs, pinned by
tests/test_model_reference.py: the paper's MLP models in tests/data/mlp_reference.npz, the
convolutional ones in tests/data/conv_reference.npz, so that a change to the code around the
model (a new architecture, a refactoring) provably leaves each path's numbers, its variables
and their checkpoint order as they were.

`python -m tests.support.model_reference mlp|conv` rewrites one file: only when that
path's math is meant to change, saying so in the commit.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tf_lvae.architecture import architecture_of
from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.model import HierarchicalVAE
from tf_lvae.optimizer import make_optimizer
from tf_lvae.presets import preset

DATA = Path(__file__).resolve().parents[1] / "data"

# The paper's 5-layer MNIST LVAE and VAE, and a small Gaussian (NORB-like) LVAE with shared
# top-down parameters and no batch norm on the latents.
MLP_CONFIGS = {
    "lvae": preset("mnist", 5, "lvae").model,
    "vae": preset("mnist", 5, "vae").model,
    "gaussian": ModelConfig(
        input_shape=(8, 8),
        kind="lvae",
        latent_dims=(6, 4),
        hidden_dims=(32, 16),
        likelihood="gaussian",
        activation="tanh",
        latent_batch_norm=False,
        top_down="shared",
    ),
}
# The convolutional preset's 5-layer MNIST LVAE and VAE, and a small Gaussian LVAE of colour
# images with shared top-down parameters and two residual blocks per connection.
CONV_CONFIGS = {
    "conv_lvae": preset("mnist", 5, "lvae", "conv").model,
    "conv_vae": preset("mnist", 5, "vae", "conv").model,
    "conv_colour": ModelConfig(
        input_shape=(8, 8, 3),
        architecture="conv",
        kind="lvae",
        latent_dims=(4, 3),
        hidden_dims=(8, 8),
        strides=(2, 2),
        residual_blocks=2,
        likelihood="gaussian",
        top_down="shared",
    ),
}
REFERENCES = {"mlp": (DATA / "mlp_reference.npz", MLP_CONFIGS)}
REFERENCES["conv"] = (DATA / "conv_reference.npz", CONV_CONFIGS)
CONFIGS = {**MLP_CONFIGS, **CONV_CONFIGS}


def _images(config: ModelConfig, n: int, binary: bool) -> np.ndarray:
    x = np.random.default_rng(7).uniform(size=(n, *config.input_shape)).astype("float32")
    return (x < 0.3).astype("float32") if binary else x


def outputs(name: str) -> dict[str, np.ndarray]:
    """Every output of the model `name` worth pinning: the ELBO terms, the IW bound, the
    encoder, samples, reconstructions, and two XLA-compiled optimizer steps (loss and a
    checksum of every variable after them, in checkpoint order)."""
    config = CONFIGS[name]
    keras.utils.set_random_seed(0)
    model = HierarchicalVAE(config, seed=0)
    x = _images(config, 16, config.likelihood == "bernoulli")
    out = {f"{name}/call/{k}": v for k, v in model(x).items()}
    out.update({f"{name}/score/{k}": v for k, v in model.score(x, 7, 3, seed=1).items()})
    out.update({f"{name}/encode/{k}": v for k, v in model.encode(x).items()})
    out[f"{name}/sample"] = model.sample(4, seed=2)
    out[f"{name}/sample_from_2"] = model.sample(4, from_layer=2, temperature=0.8, seed=2)
    out[f"{name}/reconstruct"] = model.reconstruct(x)
    # XLA as a run compiles it: the MLP's steps, not the convolutional model's
    model.compile(
        optimizer=make_optimizer(TrainingConfig()),
        jit_compile=architecture_of(config).compiles_with_xla,
    )
    model.beta.assign(0.5)
    stack = _images(config, 2 * 32, config.likelihood == "bernoulli").reshape(
        2, 32, *config.input_shape
    )
    logs = model.train_on_batch(stack, return_dict=True)
    out[f"{name}/train/loss"] = logs["loss"]
    variables = model.variables + model.optimizer.variables
    out[f"{name}/train/paths"] = np.array([v.path for v in variables])
    out[f"{name}/train/checksums"] = np.array(
        [
            [np.sum(np.float64(v.numpy())), np.sum(np.square(np.float64(v.numpy())))]
            for v in variables
        ]
    )
    return {k: np.asarray(tf.convert_to_tensor(v)) if not isinstance(v, np.ndarray) else v
            for k, v in out.items()}  # fmt: skip


def intra_op_threads() -> int:
    """TensorFlow's intra-op threads in this process: TF_NUM_INTRAOP_THREADS, else the
    number configured, else its default of one a logical CPU. With another number the
    convolutions sum in another order (their last bits differ)."""
    configured = int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0)
    return configured or tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()


def cpu_model() -> str:
    """The processor's model name (floating-point results may differ on another one)."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    path, configs = REFERENCES[sys.argv[1]]
    outputs_ = {k: v for name in configs for k, v in outputs(name).items()}
    np.savez(path, cpu=np.array(cpu_model()), threads=np.array(intra_op_threads()), **outputs_)
    print(f"wrote {path}", file=sys.stderr)
