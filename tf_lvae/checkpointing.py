"""Checkpoints of a run: save and restore the full training state, and load a run's model.

A checkpoint holds the weights with the optimizer state (model.weights.h5) and
state.json: the number of epochs done and the model's random-stream state. β and
the learning rate follow from the epoch through the schedules.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from tf_lvae.model import HierarchicalVAE
from tf_lvae.run_dir import RunDir, write_json

WEIGHTS = "model.weights.h5"
STATE = "state.json"


def save_checkpoint(model: HierarchicalVAE, run: RunDir, epochs_done: int) -> Path:
    """Writes checkpoints/epoch-NNNNNN atomically; returns its path."""

    def write(folder: Path) -> None:
        model.save_weights(folder / WEIGHTS)
        state = {
            "epochs_done": epochs_done,
            "seed_state": np.asarray(model.seed_generator.state.numpy()).tolist(),
        }
        write_json(folder / STATE, state)

    return run.new_checkpoint(epochs_done, write)


def restore_checkpoint(model: HierarchicalVAE, folder: Path) -> int:
    """Loads weights, optimizer state (if the model is compiled) and the random-stream state
    from a checkpoint folder; returns the number of epochs it had done."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    model.load_weights(folder / WEIGHTS)
    state = json.loads((folder / STATE).read_text())
    model.seed_generator.state.assign(state["seed_state"])
    return int(state["epochs_done"])


class Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint of the run at the end of every epoch."""

    def __init__(self, run: RunDir):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        save_checkpoint(self.model, self.run, epoch + 1)


def load_run_model(run_dir: str | Path, which: str = "final") -> HierarchicalVAE:
    """The trained model of a run: "final" (model.keras, falling back to the latest
    checkpoint while the run is unfinished) or "latest" (the latest checkpoint).

    Raises FileNotFoundError naming what is missing when the run has neither.
    """
    run = RunDir(run_dir)
    if which not in ("final", "latest"):
        raise ValueError(f"which must be 'final' or 'latest', got {which!r}.")
    if which == "final" and run.model_path.is_file():
        return keras.saving.load_model(run.model_path)
    config = run.read_config()
    latest = run.latest_checkpoint()
    if latest is None:
        raise FileNotFoundError(
            f"{run.path} has no trained model yet: neither {run.model_path.name} nor any "
            f"checkpoint in {run.checkpoint_dir}. Train it with `python -m training.fit`."
        )
    model = HierarchicalVAE(config.model, seed=config.training.seed)
    restore_checkpoint(model, latest[1])
    return model
