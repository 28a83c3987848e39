"""Checkpoints of a run: save and restore the full training state, and load a run's model.

A checkpoint folder holds variables.npz, every variable of the model (weights,
batch-norm statistics, β, the random-stream state) and of its optimizer, in their
fixed order, and state.json: the epochs done and the variables' shapes, checked on
restore. (One uncompressed .npz, not Keras's per-variable HDF5 weights file, which is
slower to write: a checkpoint is written every epoch; docs/results/performance.md.) The
learning rate follows from the epoch through the schedules.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np

from tf_lvae.config import ModelConfig
from tf_lvae.data.arrays import load_npz
from tf_lvae.errors import TrainingFailed
from tf_lvae.model import HierarchicalVAE
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir, write_json

VARIABLES = "variables.npz"
STATE = "state.json"


def _groups(model: HierarchicalVAE) -> dict[str, list]:
    """The checkpointed variables: the model's, and its optimizer's if it is compiled."""
    optimizer = getattr(model, "optimizer", None)
    groups = {"model": list(model.variables)}
    if optimizer is not None:
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        groups["optimizer"] = list(optimizer.variables)
    return groups


def checkpoint_variables(model: HierarchicalVAE) -> list:
    """Every variable a checkpoint holds, in its order: the model's, then its optimizer's."""
    return [v for variables in _groups(model).values() for v in variables]


def _shapes(variables: list) -> list[list[int]]:
    return [list(v.shape) for v in variables]


def save_checkpoint(model: HierarchicalVAE, run: RunDir, epochs_done: int) -> Path:
    """Writes checkpoints/epoch-NNNNNN atomically; returns its path."""
    groups = _groups(model)
    arrays = {
        f"{group}_{i}": np.asarray(v.numpy())
        for group, variables in groups.items()
        for i, v in enumerate(variables)
    }
    bad = non_finite(arrays.values())
    if bad:
        latest = run.latest_checkpoint()
        kept = f"the last finite one, {latest[1]}, is kept" if latest else "there is none yet"
        raise TrainingFailed(
            f"after epoch {epochs_done} {bad} arrays of the model or optimizer are not finite: "
            f"no checkpoint was written ({kept}). Lower the learning rate (--lr) and start "
            "again"
        )

    def write(folder: Path) -> None:
        np.savez(folder / VARIABLES, **arrays)
        state = {"epochs_done": epochs_done}
        state.update({group: _shapes(variables) for group, variables in groups.items()})
        write_json(folder / STATE, state)

    return run.new_checkpoint(epochs_done, write)


def non_finite(arrays) -> int:
    """How many of the floating-point arrays hold a NaN or an infinity."""
    return sum(
        1 for a in arrays if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all()
    )


class CheckpointDamaged(ValueError):
    """A checkpoint that cannot be read in full; the message names the file and why."""


def read_checkpoint(folder: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(state, arrays) of a checkpoint, read in full and checked against each other.
    Raises CheckpointDamaged when a file is missing, truncated or inconsistent."""
    try:
        state = json.loads((folder / STATE).read_text())
        int(state["epochs_done"])
        arrays = load_npz(folder / VARIABLES)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointDamaged(f"{folder} is damaged ({err})") from err
    shapes = {
        f"{group}_{i}": shape
        for group, group_shapes in state.items()
        if group != "epochs_done"
        for i, shape in enumerate(group_shapes)
    }
    if {key: list(a.shape) for key, a in arrays.items()} != shapes:
        raise CheckpointDamaged(f"{folder} is damaged: {VARIABLES} does not match {STATE}")
    return state, arrays


def restore_checkpoint(model: HierarchicalVAE, folder: Path) -> int:
    """Loads a checkpoint into the model (and its optimizer, if the model is compiled);
    returns the number of epochs it had done. Raises ValueError when the checkpoint
    was written by a model of another configuration, CheckpointDamaged when it cannot be
    read."""
    state, saved = read_checkpoint(folder)
    for group, variables in _groups(model).items():
        if _shapes(variables) != state.get(group):
            raise ValueError(
                f"{folder} holds the {group} variables of another model configuration; "
                "resume with the run's own config.json"
            )
        for i, variable in enumerate(variables):
            variable.assign(saved[f"{group}_{i}"])
    return int(state["epochs_done"])


def latest_intact_checkpoint(run: RunDir) -> tuple[int, Path] | None:
    """The newest checkpoint of the run that reads in full, as (epochs done, folder);
    damaged newer ones are skipped with a warning on stderr. None: there is none."""
    for epochs, folder in reversed(run.checkpoints()):
        try:
            read_checkpoint(folder)
        except CheckpointDamaged as err:
            print(f"warning: {err}; using the checkpoint before it", file=sys.stderr)
            continue
        return epochs, folder
    return None


class Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint of the run at the end of every epoch."""

    def __init__(self, run: RunDir):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        save_checkpoint(self.model, self.run, epoch + 1)


def final_checkpoint(run: RunDir) -> Path:
    """The checkpoint after the last epoch of a finished run (the start of its fine-tuning).
    Raises ValueError when the run has not done all its epochs."""
    epochs = run.read_config().training.epochs
    latest = latest_intact_checkpoint(run)
    if latest is None or latest[0] < epochs:
        raise ValueError(
            f"fine-tuning starts from a finished run, but {run.path} has done "
            f"{0 if latest is None else latest[0]} of its {epochs} epochs; finish it with "
            "--resume first."
        )
    return latest[1]


def own_model_file(run: RunDir, config: RunConfig) -> bool:
    """Whether the run's model.keras exists and is a complete archive. Raises ValueError,
    naming both files and what differs, when it holds another model than the one the
    run's config.json describes."""
    if not run.model_file_intact():
        return False
    saved = run.read_model_file_config() or {}
    if saved.get("class_name") != "HierarchicalVAE":
        differ = [f"it holds a {saved.get('class_name', 'file of no known class')}"]
    else:
        try:
            model = ModelConfig.from_dict(saved["config"]["config"]).to_dict()
            differ = [
                f"{name} {model[name]!r} (config.json: {value!r})"
                for name, value in config.model.to_dict().items()
                if model[name] != value
            ]
        except (KeyError, TypeError, ValueError) as err:
            differ = [f"its model configuration cannot be read ({err!r})"]
    if differ:
        raise ValueError(
            f"{run.model_path} is not the model of {run.config_path}: {'; '.join(differ)}. "
            f"Move it away: `python -m training.fit --resume --out {run.path}` writes the "
            "run's own from its last checkpoint"
        )
    return True


MODEL_FILES = ("final", "latest")


class TrainedModel(NamedTuple):
    """A run's trained model, the file it was loaded from and the epochs it had done."""

    model: HierarchicalVAE
    path: Path
    epochs: int


def run_model_file(run: RunDir, which: str = "final") -> tuple[Path, int]:
    """The one decision of which file holds a run's trained model, and its epochs done:
    "final": model.keras (batch-norm statistics recomputed at the end of training), or the
    latest checkpoint while the run is unfinished; "latest": the latest checkpoint (the
    moving averages of training). Raises FileNotFoundError when the run has neither."""
    if which not in MODEL_FILES:
        raise ValueError(f"which must be one of {MODEL_FILES}, got {which!r}.")
    config = run.read_config()
    if which == "final" and run.model_path.is_file():
        if not own_model_file(run, config):
            raise ValueError(
                f"{run.model_path} is damaged (not a complete .keras archive); rebuild it "
                f"from the last checkpoint with `python -m training.fit --resume --out {run.path}`"
            )
        latest = run.latest_checkpoint()
        return run.model_path, latest[0] if latest else config.training.epochs
    latest = latest_intact_checkpoint(run)
    if latest is None:
        damaged = " (the checkpoints there are damaged)" if run.checkpoints() else ""
        raise FileNotFoundError(
            f"{run.path} has no trained model yet: neither {run.model_path.name} nor any "
            f"checkpoint in {run.checkpoint_dir}{damaged}. Train it with `python -m training.fit`."
        )
    return latest[1], latest[0]


def load_trained_model(run: RunDir, which: str = "final") -> TrainedModel:
    """The trained model of a run, loaded from the file `run_model_file` chooses. Raises
    TrainingFailed when its weights are not finite."""
    path, epochs = run_model_file(run, which)
    if path == run.model_path:
        model = keras.saving.load_model(path)
    else:
        config = run.read_config()
        model = HierarchicalVAE(config.model, seed=config.training.seed)
        restore_checkpoint(model, path)
    bad = non_finite(np.asarray(v.numpy()) for v in model.variables)
    if bad:
        raise TrainingFailed(
            f"{path} holds {bad} weight arrays that are not finite: the model cannot be used. "
            "Train it again with a lower learning rate (--lr)"
        )
    return TrainedModel(model, path, epochs)


def model_file_sha256(path: Path) -> str:
    """sha256 of the bytes of a model file (model.keras) or, for a checkpoint folder, of its
    variables.npz: what ties an evaluation to the file it scored."""
    sha = hashlib.sha256()
    with open(path / VARIABLES if path.is_dir() else path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def load_run_model(run_dir: str | Path, which: str = "final") -> HierarchicalVAE:
    """The trained model of the run in run_dir (see `run_model_file`)."""
    return load_trained_model(RunDir(run_dir), which).model
