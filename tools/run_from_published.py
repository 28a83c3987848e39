"""Rebuilds a finished run directory from a published model folder, so that its fine-tunings
(`training.reproduce --experiment table1`, `training.fit --finetune`) can start from it.

A published folder (docs/results/mnist-2000-epochs/vae-bn-wu and lvae-bn-wu) holds a run's
config.json, model.keras (weights, batch-norm statistics recomputed), results.json,
metrics.csv and evaluation-test.json, but no checkpoint: Adam's moments are not published.
The rebuilt run gets those files and one checkpoint after its last epoch holding the
published model's variables and a new optimizer (moments zero, step count zero). Two
things start afresh with it besides Adam: the random stream (a .keras file does not keep
it: it starts from the run's seed) and the batch-norm moving averages (the checkpoint holds
the published, recomputed statistics in their place).

Usage (from the repository root):
  PYTHONPATH=. python tools/run_from_published.py PUBLISHED RUN_DIR [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from tf_lvae.cli import ArgumentParser, begin, run_command
from tf_lvae.runs.run_dir import RunDir, write_atomic_dir

RECORDS = ("config.json", "model.keras", "results.json", "metrics.csv", "evaluation-test.json")


def check_published(published: str | Path, out: str | Path) -> None:
    """Raises FileNotFoundError when `published` lacks a record of a published model
    folder, FileExistsError when `out` exists. Light: TensorFlow does not start."""
    missing = [name for name in RECORDS if not (Path(published) / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{published} is not a published model folder: it lacks {', '.join(missing)} "
            "(e.g. docs/results/mnist-2000-epochs/lvae-bn-wu)"
        )
    if Path(out).exists():
        raise FileExistsError(f"{out} exists already; choose a new folder")


def relative_path(variable) -> str:
    """A variable's path inside its model: without the model's own name, which Keras
    numbers per process (hierarchical_vae, hierarchical_vae_1, ...)."""
    return variable.path.split("/", 1)[-1]


def assign_by_path(targets: Sequence, sources: Sequence) -> None:
    """Gives each target variable the value of the source variable at the same path inside
    its model (never by position: a batch norm's gamma and beta, or its moving mean and
    variance, have the same shape); ValueError naming what does not match."""
    by_path = {relative_path(v): v for v in sources}
    missing = [relative_path(v) for v in targets if relative_path(v) not in by_path]
    extra = sorted(set(by_path) - {relative_path(v) for v in targets})
    if missing or extra:
        raise ValueError(f"variables missing: {missing[:3]}, not in the model: {extra[:3]}")
    for variable in targets:
        value = by_path[relative_path(variable)]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{relative_path(variable)} is {value.shape}, not {variable.shape}")
        variable.assign(value)


def run_from_published(
    published: str | Path, out: str | Path, data_dir: str | None = None
) -> RunDir:
    """Writes the finished run `out` (all at once: an interrupted call leaves nothing) from
    the published folder; returns it. `data_dir` replaces the config's (where this machine
    has the data). Raises as `check_published`, and ValueError when the model file is
    damaged or holds another model than the folder's config.json."""
    check_published(published, out)  # before TensorFlow starts
    import keras

    from tf_lvae.runs.checkpoints import own_model_file, save_checkpoint
    from tf_lvae.runs.train import compiled_model

    source = RunDir(published)
    config = source.read_config()
    if not own_model_file(source, config):
        raise ValueError(f"{source.model_path} is damaged (not a complete .keras archive)")
    config = dataclasses.replace(config, data_dir=data_dir or config.data_dir)
    model = compiled_model(config)
    published = keras.saving.load_model(source.model_path).variables
    try:
        assign_by_path(model.variables, published)
    except ValueError as err:
        raise ValueError(
            f"{source.model_path} does not hold the model of {source.config_path} ({err})"
        ) from None

    def write(folder: Path) -> None:
        for name in RECORDS:
            shutil.copy2(source.path / name, folder / name)
        run = RunDir(folder)
        run.write_config(config)
        save_checkpoint(model, run, config.training.epochs)

    write_atomic_dir(Path(out), write)
    return RunDir(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="tools/run_from_published.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("published", help="a published model folder")
    parser.add_argument("run_dir", help="the run directory to write (new)")
    parser.add_argument("--data-dir", help="where this machine has the run's dataset")
    args = parser.parse_args(argv)
    begin(f"rebuilding {args.run_dir} from {args.published}", verbose=False)
    run = run_from_published(args.published, args.run_dir, args.data_dir)
    print(f"{run.path}: a finished run with the published weights and a new optimizer")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
