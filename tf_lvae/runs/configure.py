"""A new run's configuration, built from the paper's preset for its dataset: the one place
that turns presets into a RunConfig, for `training.fit` and the paper's experiments."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tf_lvae.config import ModelConfig
from tf_lvae.constants import PAPER_NUM_LAYERS
from tf_lvae.data import DatasetArrays
from tf_lvae.data.datasets import preset_for
from tf_lvae.data.splits import check_levels, check_pixel_scale, validation_count
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig


def stable_data_dir(data_dir: str | None) -> str | None:
    """data_dir as a run records it: absolute, resolved against the current directory, so
    that later commands run from anywhere find the data (None stays None: tfds's folder)."""
    return None if data_dir is None else str(Path(data_dir).expanduser().resolve())


def continued_config(saved: RunConfig, changes: dict[str, Any]) -> tuple[RunConfig, list[str]]:
    """The config of a saved run continued with the options given again (`changes`: RunConfig
    fields, with "model" and "training" dicts of their fields; model["num_layers"] is
    compared with the saved model's latent layers). Values equal to the saved
    ones are fine, a new data_dir is taken (the data moved), and a larger training epochs
    extends the run; anything else raises ValueError naming what differs. Returns the
    config and what changed, said in words."""
    changes = dict(changes)
    training = dict(changes.pop("training", {}))
    model = dict(changes.pop("model", {}))
    layers = model.pop("num_layers", None)
    epochs = training.pop("epochs", None)
    data_dir = stable_data_dir(changes.pop("data_dir", None)) or saved.data_dir
    differ = [
        f"{name} {value!r} (saved {getattr(part, name)!r})"
        for part, given in ((saved, changes), (saved.model, model), (saved.training, training))
        for name, value in given.items()
        if value is not None and value != getattr(part, name)
    ]
    if layers is not None and layers != saved.model.num_layers:
        differ.append(f"layers {layers} (saved {saved.model.num_layers})")
    if epochs is not None and epochs < saved.training.epochs:
        differ.append(f"epochs {epochs} (saved {saved.training.epochs}; a run is not shortened)")
    if differ:
        raise ValueError(
            "these options differ from the run's config.json: "
            + ", ".join(differ)
            + ". A run continues with its own settings; start a new run (another --out) for "
            "others"
        )
    notes = []
    config = saved
    if data_dir != saved.data_dir:
        notes.append(f"reading the data from {data_dir} (was {saved.data_dir})")
        config = dataclasses.replace(config, data_dir=data_dir)
    if epochs is not None and epochs > saved.training.epochs:
        notes.append(f"extending the run from {saved.training.epochs} to {epochs} epochs")
        config = dataclasses.replace(config, training=config.training.replace(epochs=epochs))
    return config, notes


def configure_run(
    dataset: str,
    data: DatasetArrays,
    *,
    data_dir: str | None = None,
    kind: str = "lvae",
    num_layers: int = PAPER_NUM_LAYERS,
    preset_name: str | None = None,
    model: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
    **run: Any,
) -> RunConfig:
    """The run of `dataset` (loaded as `data`, from `data_dir`): the preset `preset_name`
    (None: the dataset's, `datasets.preset_for`) of the architecture model["architecture"]
    (default the paper's MLP) with `num_layers` latent layers and inference `kind`, the
    data's image shape and likelihood, then the `model` and `training` changes (None values
    are left at the preset's; latent_dims alone take the preset's widths and strides for
    as many layers) and the other RunConfig fields in `run` (data_dir, validation, ...).
    Raises ValueError when a setting is invalid, the pixel scale does not apply to the
    data or the batch is larger than the training set."""
    model = {k: v for k, v in (model or {}).items() if v is not None}
    name = preset_for(dataset) if preset_name is None else preset_name
    architecture = model.get("architecture", "mlp")
    base = preset(name, num_layers, kind, architecture)
    model_config = dataclasses.replace(
        base.model,
        **{
            "input_shape": data.image_shape,
            "likelihood": data.likelihood,
            **_preset_sizes(preset(name, PAPER_NUM_LAYERS, kind, architecture).model, model),
            **model,
        },
    )
    training_config = base.training.replace(
        **{k: v for k, v in (training or {}).items() if v is not None}
    )
    examples = len(data.x_train)
    if run.get("validation"):
        examples -= validation_count(run["validation"], examples)
    if training_config.batch_size > examples:
        raise ValueError(
            f"the batch size {training_config.batch_size} is larger than the {examples} "
            f"training examples of {data.name}"
            + (" left after the validation split" if run.get("validation") else "")
        )
    gaussian_bytes = model_config.likelihood == "gaussian" and data.levels is not None
    if run.get("dequantize") is False and not gaussian_bytes:
        raise ValueError(
            f"--no-dequantize (dequantize=False) is for a Gaussian likelihood on 8-bit values; "
            f"{data.name} is not dequantized"
        )
    config = RunConfig(dataset, stable_data_dir(data_dir), model_config, training_config, **run)
    check_pixel_scale(config, data)
    check_levels(config, data)
    return config


def _preset_sizes(full: ModelConfig, model: dict[str, Any]) -> dict[str, Any]:
    """The hidden_dims and strides that latent_dims given without them take: those of the
    preset `full` (all its layers) for as many layers."""
    if "latent_dims" not in model:
        return {}
    layers = len(model["latent_dims"])
    sizes = {}
    for name in ("hidden_dims", "strides"):
        preset_sizes = getattr(full, name)
        if name in model or not preset_sizes:
            continue
        if layers > len(preset_sizes):
            raise ValueError(
                f"{layers} latent layers: give --{name.replace('_', '-')} too (the preset's "
                f"cover {len(preset_sizes)})"
            )
        sizes[name] = preset_sizes[:layers]
    return sizes
