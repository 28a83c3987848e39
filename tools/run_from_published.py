"""Rebuilds a finished run directory from a published model folder, so that its fine-tunings
(`training.reproduce --experiment table1`, `training.fit --finetune`) can start from it.

A published folder (docs/results/*/MODEL) holds a run's config.json, model.keras (weights,
batch-norm statistics recomputed), results.json, metrics.csv and evaluation-test.json, but
no checkpoint: Adam's moments are not published. The rebuilt run gets those files and one
checkpoint after its last epoch holding the published model's variables and a new
optimizer (moments zero, step count zero), which a fine-tuning then starts from.

Usage (from the repository root):
  PYTHONPATH=. python tools/run_from_published.py PUBLISHED RUN_DIR [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

import keras
import numpy as np

from tf_lvae.runs.checkpoints import save_checkpoint
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import compiled_model

RECORDS = ("model.keras", "results.json", "metrics.csv", "evaluation-test.json")


def run_from_published(published: Path, out: Path, data_dir: str | None = None) -> RunDir:
    """Writes the finished run `out` from the published folder; returns it. `data_dir`
    replaces the config's (where this machine has the data). Raises ValueError when `out`
    exists or the model file does not match its config."""
    source, run = RunDir(published), RunDir(out)
    if run.exists():
        raise ValueError(f"{out} exists already; choose a new folder")
    config = source.read_config()
    if data_dir is not None:
        config = dataclasses.replace(config, data_dir=data_dir)
    model = compiled_model(config)
    weights = keras.saving.load_model(source.model_path).variables
    if [v.path for v in weights] != [v.path for v in model.variables]:
        raise ValueError(f"{source.model_path} does not hold the model of {source.config_path}")
    for variable, value in zip(model.variables, weights, strict=True):
        variable.assign(np.asarray(value))
    run.path.mkdir(parents=True)
    for name in RECORDS:
        shutil.copy2(source.path / name, run.path / name)
    save_checkpoint(model, run, config.training.epochs)
    run.write_config(config)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path, help="a published model folder")
    parser.add_argument("run_dir", type=Path, help="the run directory to write (new)")
    parser.add_argument("--data-dir", help="where this machine has the run's dataset")
    args = parser.parse_args()
    run = run_from_published(args.published, args.run_dir, args.data_dir)
    print(f"{run.path}: finished run rebuilt from {args.published} (optimizer state new)")


if __name__ == "__main__":
    main()
