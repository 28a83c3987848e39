"""A training run's directory: what it holds, where, and how to write it safely.

RUN_DIR/
  config.json         RunConfig: dataset, model and training settings
  checkpoints/        epoch-NNNNNN/ (weights + optimizer + state.json), written atomically
  metrics.csv         one row per epoch: training, validation and test metrics
  unit_kl.npz         per-unit KL(q || p) on test examples, every few epochs (Fig. 5)
  tensorboard/        TensorBoard event files
  model.keras         the final model (keras.saving.load_model)
  results.json        the final test log-likelihood (IW bound) and ELBO
  plots/              figures written by `python -m training.plots`
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tf_lvae.config import ModelConfig, TrainingConfig

CHECKPOINT_PATTERN = re.compile(r"^epoch-(\d{6})$")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run, saved as RUN_DIR/config.json.

    Attributes:
      dataset: the dataset spec given to `tf_lvae.data.load_dataset` ("mnist", "npz:PATH", ...).
      data_dir: where the data was read from (None: tensorflow-datasets' default).
      model, training: the model and how it is trained.
      validation: examples (int) or fraction (float) of the training set held out; 0 = none.
      monitor_every: record the test ELBO and the per-unit KL every this many epochs
        and at the last one.
      eval_every: compute the test IW bound every this many epochs during training (0 = never).
      eval_iw_samples: K of that periodic test IW bound.
      final_iw_samples: K of the final test log-likelihood (the paper: 5000).
      unit_kl_examples: test examples used for the per-unit KL record (0 = off).
      init_from: a finished run whose last checkpoint starts this one (fine-tuning), or None.
      dequantize: with a Gaussian likelihood on integer-valued data (8-bit images), add
        uniform noise to the integers, afresh every epoch in training and once for
        evaluation (docs/method.md §5); False: the values as stored.
    """

    dataset: str
    data_dir: str | None
    model: ModelConfig
    training: TrainingConfig
    validation: float = 0
    monitor_every: int = 5
    eval_every: int = 100
    eval_iw_samples: int = 100
    final_iw_samples: int = 5000
    unit_kl_examples: int = 1000
    init_from: str | None = None
    dequantize: bool = True

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values["model"] = self.model.to_dict()
        values["training"] = self.training.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        """The config of a `to_dict` dict; one written before `dequantize` existed trained
        on the stored values."""
        values = {"dequantize": False, **values}
        values["model"] = ModelConfig.from_dict(values["model"])
        values["training"] = TrainingConfig.from_dict(values["training"])
        return cls(**values)


def _temporary_path(path: Path) -> Path:
    """A fresh hidden name beside `path`, with its suffix, to write before renaming to
    `path`. Nothing is created, so what is written there gets the permissions of any new
    file or folder (unlike mkstemp's and mkdtemp's owner-only ones)."""
    return path.with_name(f".{path.stem}-{uuid.uuid4().hex[:12]}{path.suffix}")


def write_atomic(path: Path, write) -> None:
    """Calls write(tmp_path) for a temporary file beside `path`, then renames it over `path`:
    readers see the old file or the new one, never a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic_dir(path: Path, write) -> None:
    """Calls write(tmp_dir) on a temporary folder beside `path`, then renames it to `path`
    (replacing any folder there): readers never see a partly written folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_path(path)
    tmp.mkdir()
    try:
        write(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, obj: Any) -> None:
    """Writes obj as indented JSON, atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2) + "\n"))


class RunDir:
    """Paths and safe reads/writes of one run directory."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.checkpoint_dir = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.csv"
        self.unit_kl_path = self.path / "unit_kl.npz"
        self.tensorboard_dir = self.path / "tensorboard"
        self.model_path = self.path / "model.keras"
        self.results_path = self.path / "results.json"
        self.plots_dir = self.path / "plots"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def write_config(self, config: RunConfig) -> None:
        write_json(self.config_path, config.to_dict())

    def read_config(self) -> RunConfig:
        if not self.exists():
            raise FileNotFoundError(
                f"{self.path} is not a run directory: {self.config_path} is missing. "
                "Pass the --out folder of a `python -m training.fit` run."
            )
        return RunConfig.from_dict(json.loads(self.config_path.read_text()))

    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints as (epochs done, path), oldest first."""
        if not self.checkpoint_dir.is_dir():
            return []
        found = []
        for entry in self.checkpoint_dir.iterdir():
            match = CHECKPOINT_PATTERN.match(entry.name)
            if match and entry.is_dir():
                found.append((int(match.group(1)), entry))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def new_checkpoint(self, epochs_done: int, write, keep: int = 2) -> Path:
        """Writes a checkpoint atomically: write(tmp_dir) fills a temporary folder that is then
        renamed to checkpoints/epoch-NNNNNN. Keeps the newest `keep` checkpoints."""
        final = self.checkpoint_dir / f"epoch-{epochs_done:06d}"
        write_atomic_dir(final, write)
        for _, old in self.checkpoints()[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final
