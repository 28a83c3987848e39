"""A training run's directory: every record it holds, where, and how each is read and
written (atomically: a reader sees the old file or the new one, never a partial one).

RUN_DIR/
  config.json             RunConfig: dataset, model and training settings
  checkpoints/            epoch-NNNNNN/ (weights + optimizer + state.json; runs.checkpoints)
  metrics.csv             one row per epoch: training, validation and test metrics
  unit_kl.npz             per-unit KL(q || p) on test examples, every few epochs (Fig. 5)
  tensorboard/            TensorBoard event files
  model.keras             the final model, batch-norm statistics recomputed (docs/method.md §4)
  results.json            the final test log-likelihood (IW bound) and ELBO
  evaluation-SPLIT.json   reports of `python -m training.evaluate` (runs.report); of a part
                          of the split: evaluation-SPLIT-examples-START-END.json
  plots/                  figures written by `python -m training.plots`
  finetune/               the paper's fine-tuning of the finished run: a run directory
  finetune-SLUG/          Table 1's fine-tunings (training.reproduce --experiment table1)
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import math
import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tf_lvae.data.arrays import load_npz
from tf_lvae.run_config import RunConfig

LOCK_FILE = ".lock"
CHECKPOINT_PATTERN = re.compile(r"^epoch-(\d{6})$")
TEMPORARY_PATTERN = re.compile(r"^\..+-[0-9a-f]{12}(\.[a-z]+)?$")


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


def check_writable(path: Path, kind: str, option: str) -> Path:
    """`path` if a `kind` ("folder" or "file") can be written there, checked before any
    work and without leaving anything: a file is tried (and removed) in the nearest folder
    that exists on the way. Raises ValueError naming the path, the reason and the option."""
    path = Path(path)
    if kind == "folder" and path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder; choose another {option}")
    if kind == "file" and path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name to {option}")
    folder = path if kind == "folder" else path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    probe = _temporary_path(existing / "probe")
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise ValueError(
            f"cannot write to {folder} ({err.strerror}); choose another {option}"
        ) from err
    return path


def check_new_report(path: Path, overwrite: bool, option: str = "--out") -> Path:
    """`path` when a report may be written there (`check_writable`): it must not exist yet,
    unless `overwrite` (the command's --overwrite). Raises FileExistsError otherwise."""
    path = check_writable(path, "file", option)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists already: give --overwrite to replace it, or another {option}"
        )
    return path


def _strict_json(obj: Any) -> Any:
    """obj with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {key: _strict_json(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict_json(value) for value in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Writes obj as indented, valid JSON (NaN and infinities as null), atomically."""
    text = json.dumps(_strict_json(obj), indent=2, allow_nan=False)
    write_atomic(path, lambda tmp: tmp.write_text(text + "\n"))


class RunLocked(FileExistsError):
    """Another process writes this run directory."""


class RecordDamaged(ValueError):
    """A record of a run directory that cannot be read; the message names it and says what
    to do."""


class RunDir:
    """The records of one run directory: their paths, readers and writers."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.checkpoint_dir = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.csv"
        self.unit_kl_path = self.path / "unit_kl.npz"
        self.tensorboard_dir = self.path / "tensorboard"
        self.model_path = self.path / "model.keras"
        self.results_path = self.path / "results.json"
        self.start_path = self.path / "started_from.json"
        self.plots_dir = self.path / "plots"

    @property
    def finetune(self) -> RunDir:
        """The run directory of this run's fine-tuning, RUN_DIR/finetune."""
        return RunDir(self.path / "finetune")

    def evaluation_path(self, split: str = "test", part: str = "") -> Path:
        """Where `training.evaluate` writes its report by default: evaluation-SPLIT.json, or
        evaluation-SPLIT-PART.json for a part of the split (`EvaluationSettings.part_name`)."""
        name = "-".join(filter(None, ("evaluation", split, part)))
        return self.path / f"{name}.json"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def never_trained(self) -> bool:
        """Whether the run holds no checkpoint and no record of a finished epoch: starting
        it again loses nothing but its config.json."""
        records = (self.metrics_path, self.unit_kl_path, self.model_path, self.results_path)
        return not self.checkpoints() and not any(path.exists() for path in records)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Holds an exclusive lock on the run directory (created if needed) while the block
        runs, so that one process at a time writes it. The OS releases it when the process
        ends, however it ends. Raises RunLocked naming the holder's pid, or ValueError when
        the folder cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK_FILE, "a+")  # noqa: SIM115 (held past this block)
        except OSError as err:
            raise ValueError(
                f"cannot write the run directory {self.path} ({err.strerror}); choose another --out"
            ) from err
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise RunLocked(
                    f"{self.path} is in use by another process (pid {holder}); wait for it to "
                    "finish, or choose another --out"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield

    def model_file_intact(self) -> bool:
        """Whether model.keras exists and is a complete archive (every member's CRC)."""
        try:
            with zipfile.ZipFile(self.model_path) as archive:
                return archive.testzip() is None
        except (OSError, zipfile.BadZipFile):
            return False

    def read_model_file_config(self) -> dict[str, Any] | None:
        """What model.keras says it holds, its archive's config.json (the saved class and
        its `get_config`), read without loading the model; None when it cannot be read."""
        try:
            with zipfile.ZipFile(self.model_path) as archive:
                saved = json.loads(archive.read("config.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        return saved if isinstance(saved, dict) else None

    def remove_temporary_files(self) -> list[Path]:
        """Removes what an interrupted atomic write left (hidden .NAME-XXXXXXXXXXXX files and
        folders beside the records and checkpoints); returns them. Only for the run's one
        writer, before it starts."""
        stale = [
            path
            for folder in (self.path, self.checkpoint_dir)
            if folder.is_dir()
            for path in folder.iterdir()
            if TEMPORARY_PATTERN.match(path.name)
        ]
        for path in stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return stale

    def write_config(self, config: RunConfig) -> None:
        write_json(self.config_path, config.to_dict())

    def read_config(self) -> RunConfig:
        if not self.exists():
            raise FileNotFoundError(
                f"{self.path} is not a run directory: {self.config_path} is missing. "
                "Pass the --out folder of a `python -m training.fit` run."
            )
        try:
            return RunConfig.from_dict(json.loads(self.config_path.read_text()))
        except (ValueError, KeyError, TypeError) as err:
            raise RecordDamaged(
                f"{self.config_path} is damaged ({err}); restore it from a copy, or start the "
                "run again with another --out"
            ) from err

    def read_results(self) -> dict[str, Any]:
        """results.json: the final test numbers of a finished run."""
        return _read_json(
            self.results_path,
            f"delete it and run `python -m training.fit --resume --out {self.path}` to write it "
            "again",
        )

    def read_evaluation(self, split: str = "test") -> dict[str, Any] | None:
        """evaluation-SPLIT.json, the report of `training.evaluate` on the whole split, or
        None when there is none."""
        path = self.evaluation_path(split)
        if not path.is_file():
            return None
        return _read_json(
            path,
            f"evaluate the run again (python -m training.evaluate --run {self.path} --overwrite)",
        )

    def write_results(self, results: dict[str, Any]) -> None:
        write_json(self.results_path, results)

    def write_start(self, run: str, epochs: int, optimizer_steps: int) -> None:
        """Records where a run that starts from another one (a fine-tuning) started: that
        run, its epochs, and the optimizer steps its checkpoint held (0: a new Adam)."""
        record = {"run": run, "epochs": epochs, "optimizer_steps": optimizer_steps}
        write_json(self.start_path, record)

    def read_start(self) -> dict[str, Any] | None:
        """The record of `write_start`, or None (a run started from nothing, or one made
        before tf_lvae recorded it)."""
        return json.loads(self.start_path.read_text()) if self.start_path.is_file() else None

    def read_metric_rows(self) -> list[dict[str, str]]:
        """metrics.csv as written: one dict per epoch, values as text ("" where missing)."""
        if not self.metrics_path.is_file():
            return []
        try:
            with self.metrics_path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            for row in rows:
                int(row["epoch"])
                [float(value) for value in row.values() if value]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, csv.Error) as err:
            raise self._damaged(self.metrics_path, err) from err
        return rows

    def write_metric_rows(self, rows: list[dict[str, str]]) -> None:
        """Writes metrics.csv with every column any row has, in order of appearance."""
        columns = list(dict.fromkeys(k for row in rows for k in row))

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=columns, restval="")
                writer.writeheader()
                writer.writerows(rows)

        write_atomic(self.metrics_path, write)

    def read_metrics(self) -> dict[str, np.ndarray]:
        """metrics.csv as columns: name -> float array [E] (NaN where a value is missing)."""
        if not self.metrics_path.is_file():
            raise FileNotFoundError(f"{self.metrics_path} does not exist: the run has no epoch yet")
        rows = self.read_metric_rows()
        columns = list(rows[0]) if rows else []
        return {c: np.array([float(r[c]) if r[c] else np.nan for r in rows]) for c in columns}

    def read_unit_kl(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """unit_kl.npz: (epochs done [E], per layer bottom to top [E, *latent_shape])."""
        if not self.unit_kl_path.is_file():
            config = self.read_config() if self.exists() else None
            why = (
                "the run has recorded no per-unit KL"
                if config is None
                else "the run records no per-unit KL (unit_kl_examples = 0)"
                if config.unit_kl_examples == 0
                else "the run has recorded no per-unit KL yet (it does every "
                f"{config.monitor_every} epochs and at its last)"
            )
            raise FileNotFoundError(f"{self.unit_kl_path} does not exist: {why}")
        try:
            record = load_npz(self.unit_kl_path)
            epochs = record.pop("epochs")
            layers = [record.pop(f"layer_{i + 1}") for i in range(len(record))]
            if any(layer.ndim < 2 or len(layer) != len(epochs) for layer in layers):
                raise ValueError("its layers do not have one row per recorded epoch")
        except (ValueError, KeyError) as err:
            raise self._damaged(self.unit_kl_path, err) from err
        return epochs, layers

    def check_records(self) -> None:
        """Reads metrics.csv and unit_kl.npz, so that a damaged one is found before any work
        starts (RecordDamaged)."""
        self.read_metric_rows()
        if self.unit_kl_path.is_file():
            self.read_unit_kl()

    def _damaged(self, path: Path, err: Exception) -> RecordDamaged:
        return RecordDamaged(
            f"{path} is damaged ({err}); move it away and run again: the record then starts "
            "afresh from the next epoch"
        )

    def write_unit_kl(self, epochs: list[int], layers: list[list[np.ndarray]]) -> None:
        """Writes unit_kl.npz: `epochs` [E] and `layer_1` ... `layer_L`, each [E, units]."""
        arrays = {f"layer_{i + 1}": np.stack(r) for i, r in enumerate(layers)}
        write_atomic(
            self.unit_kl_path, lambda tmp: np.savez(tmp, epochs=np.array(epochs), **arrays)
        )

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


def _read_json(path: Path, remedy: str) -> dict[str, Any]:
    """The JSON record at path; RecordDamaged naming it, the error and `remedy` when it does
    not parse."""
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise RecordDamaged(f"{path} is damaged ({err}); {remedy}") from err
