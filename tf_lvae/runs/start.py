"""A run started from a command's options (`python -m training.fit`): a new run, a resumed
one, or the paper's fine-tuning of a finished one, each on the strategy made first (a
worker of a multi-worker run other than its chief runs `train.train_worker` instead).

`changes` are the options given, as RunConfig fields with "model" and "training" dicts of
their fields (see `configure.continued_config`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import tensorflow as tf

from tf_lvae.config import TrainingConfig
from tf_lvae.constants import FINETUNE_EPOCHS
from tf_lvae.data.sources import load_dataset
from tf_lvae.presets import finetune_config
from tf_lvae.runs.checkpoints import final_checkpoint, own_model_file
from tf_lvae.runs.configure import configure_run, continued_config
from tf_lvae.runs.distribute import check_batch_split, make_strategy
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import train_run


def run_strategy(
    out: RunDir,
    continued: bool,
    strategy: str | None,
    devices: tuple[str, ...] | None,
    cluster_timeout: int,
) -> tf.distribute.Strategy | None:
    """The run's tf.distribute strategy: `strategy` and `devices` when given, else those of
    the saved run in `out` when it is `continued`; made first, before TensorFlow runs
    anything, as a multi-worker strategy and logical CPU devices require. None: the default
    strategy (one device)."""
    saved = out.read_config().training if continued and out.config_path.is_file() else None
    saved = saved or TrainingConfig()
    name = strategy or saved.strategy
    if name == "default":
        return None
    return make_strategy(
        TrainingConfig(strategy=name, devices=devices or saved.devices), cluster_timeout
    )


def new_run(
    out: RunDir,
    dataset: str,
    options: dict[str, Any],
    strategy: tf.distribute.Strategy | None = None,
    download: bool | None = None,
) -> None:
    """Loads `dataset` (`download`: as `load_dataset`'s), configures the run
    (`configure.configure_run` with `options`: kind, num_layers, model, training and other
    RunConfig fields), checked with the strategy before anything is written, then writes
    and trains it in `out`, which must not hold a run that trained (one that never did is
    started again)."""
    exists = FileExistsError(
        f"{out.path} already holds a run; continue it with --resume, or choose another --out"
    )
    if out.exists() and not out.never_trained():
        raise exists
    data = load_dataset(
        dataset, options.get("data_dir"), download=download, image_size=options.get("image_size")
    )
    config = configure_run(dataset, data, **options)
    check_batch_split(strategy, config)
    with out.lock():
        if out.exists():
            if not out.never_trained():
                raise exists
            print(f"{out.path}: its run never trained; starting it again with these options")
        out.write_config(config)
        print(f"run directory: {out.path}  (continue an interrupted run with --resume)")
        train_run(out, data=data, strategy=strategy)


def continue_run(
    run: RunDir, changes: dict[str, Any], strategy: tf.distribute.Strategy | None = None
) -> None:
    """Continues the saved run in `run` with the options given again, under its lock,
    checked with the strategy before anything is written."""
    if not run.exists():
        hint = (
            " (a worker of a cluster: give --strategy multiworker)"
            if "TF_CONFIG" in os.environ
            else ""
        )
        raise FileNotFoundError(f"nothing to resume: {run.config_path} does not exist{hint}")
    with run.lock():
        try:
            config, notes = continued_config(run.read_config(), changes)
            check_batch_split(strategy, config)
        except ValueError as err:
            if not run.never_trained():
                raise
            raise ValueError(
                f"{err}. {run.path} never trained: start it again as a new run with the options "
                "you want (training.fit --dataset ... --out, without --resume)"
            ) from err
        run.check_records()  # before the config changes
        for note in notes:
            print(f"{run.path}: {note}")
        if notes:
            run.write_config(config)
        train_run(run, strategy=strategy)


def fine_tuning(
    base: RunDir,
    changes: dict[str, Any],
    epochs: int | None,
    strategy: tf.distribute.Strategy | None = None,
) -> None:
    """The paper's fine-tuning of the finished run in `base`, in base/finetune: created at
    the first call (`epochs` more epochs, default FINETUNE_EPOCHS), continued after."""
    out = base.finetune
    changes = {**changes, "training": dict(changes["training"])}
    base_config = base.read_config()
    if epochs is not None:
        changes["training"]["epochs"] = base_config.training.epochs + epochs
    if out.exists():
        continue_run(out, changes, strategy)
        return
    # the base must be finished, with its own model.keras, before anything is written
    final_checkpoint(base)
    own_model_file(base, base_config)
    config, _ = continued_config(base_config, {"model": changes["model"]})
    training = {k: v for k, v in changes["training"].items() if k != "epochs" and v is not None}
    run_fields = {k: v for k, v in changes.items() if k not in ("model", "training", "dataset")}
    config = dataclasses.replace(
        config,
        **{k: v for k, v in run_fields.items() if v is not None},
        training=finetune_config(base_config.training, epochs or FINETUNE_EPOCHS).replace(
            **training
        ),
        init_from=str(base.path.resolve()),
    )
    check_batch_split(strategy, config)
    with out.lock():
        out.write_config(config)
        train_run(out, strategy=strategy)
