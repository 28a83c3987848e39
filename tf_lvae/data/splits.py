"""Which images a run uses: its dataset as the run sees it, its splits, and the fixed draws
of the images it is evaluated (and its batch-norm statistics recomputed) on.

Training draws its images afresh every epoch in `tf_lvae.data.pipeline` (dynamic
binarization, dequantization); everything evaluated uses one fixed draw of the same kind
(`draw_once`), with the seed `TEST_BINARIZATION_SEED` for the evaluated splits.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from pathlib import Path

import numpy as np

from tf_lvae.config import DISCRETE_LIKELIHOODS, PIXEL_SCALES, SPLITS
from tf_lvae.constants import EIGHT_BIT_LEVELS
from tf_lvae.data.arrays import DatasetArrays, DatasetError
from tf_lvae.data.sources import load_dataset
from tf_lvae.run_config import RunConfig

TEST_BINARIZATION_SEED = 0


def load_run_data(config: RunConfig, data: DatasetArrays | None = None) -> DatasetArrays:
    """The run's dataset (`data`, or loaded from the config), checked against the model's
    input shape, with the draws of its images set by the model's likelihood: binarized
    (afresh every epoch, once for evaluation) only for a Bernoulli likelihood, from
    byte / config.pixel_scale (`on_pixel_scale`); uniformly dequantized for a Gaussian one
    on integer values unless the run turns it off; the levels themselves for the logistic
    mixture (8-bit images only, `check_levels`)."""
    if data is None:
        data = load_dataset(config.dataset, _data_dir(config), image_size=config.image_size)
    if data.image_shape != config.model.input_shape:
        raise ValueError(
            f"the {config.dataset} images are {data.image_shape} but the model expects "
            f"{config.model.input_shape}; build the model with input_shape={data.image_shape}."
        )
    check_pixel_scale(config, data)
    check_levels(config, data)
    likelihood = config.model.likelihood
    gaussian = likelihood == "gaussian"
    data = dataclasses.replace(
        data,
        likelihood=likelihood,
        binarize=data.binarize and likelihood == "bernoulli",
        dequantize=config.dequantize and gaussian and data.levels is not None,
    )
    return on_pixel_scale(data, config.pixel_scale)


def check_levels(config: RunConfig, data: DatasetArrays) -> None:
    """Raises ValueError when the run's likelihood models 8-bit levels (the logistic
    mixture) and its images are not 8-bit values k / 255."""
    if config.model.likelihood in DISCRETE_LIKELIHOODS and data.levels != EIGHT_BIT_LEVELS:
        raise ValueError(
            f"the {config.model.likelihood} likelihood models the 256 levels of 8-bit images, "
            f"but the {config.dataset} images are not 8-bit values (binary or continuous); "
            "use --likelihood bernoulli or gaussian"
        )


def _data_dir(config: RunConfig) -> str | None:
    """The run's data_dir; DatasetError when it is a relative path (runs made before data_dir
    was recorded absolute) that does not exist from the current directory."""
    folder = config.data_dir
    path = None if folder is None else Path(folder).expanduser()
    if path is not None and not path.is_absolute() and not path.is_dir():
        raise DatasetError(
            f"the run's data_dir {folder!r} (config.json) is relative to the folder the run "
            f"was started in; from here ({Path.cwd()}) it is not a folder. Run the command "
            "from the run's starting folder, or give the data's folder with --data-dir"
        )
    return folder


def binarizes_bytes(data: DatasetArrays, likelihood: str) -> bool:
    """Whether a model with `likelihood` binarizes 8-bit grey values of `data`: the images a
    pixel scale applies to."""
    return data.binarize and likelihood == "bernoulli" and data.levels == EIGHT_BIT_LEVELS


def check_pixel_scale(config: RunConfig, data: DatasetArrays) -> None:
    """Raises ValueError when the run's pixel scale is not 255 and its images are not 8-bit
    grey values binarized for a Bernoulli likelihood (`binarizes_bytes`)."""
    if config.pixel_scale != PIXEL_SCALES[0] and not binarizes_bytes(data, config.model.likelihood):
        raise ValueError(
            f"pixel scale {config.pixel_scale} (--pixel-scale) divides 8-bit grey values "
            f"before they are binarized, but the {config.dataset} images are not 8-bit values "
            f"binarized for a {config.model.likelihood} likelihood; leave the scale at "
            f"{PIXEL_SCALES[0]}"
        )


def on_pixel_scale(data: DatasetArrays, scale: int) -> DatasetArrays:
    """`data` with its 8-bit grey values k / 255 as k / `scale`, exactly (float32); the same
    object for 255. Only for data that `binarizes_bytes`: the values are then binarization
    probabilities, no longer levels k / (levels - 1), and `levels` becomes None."""
    if scale == PIXEL_SCALES[0]:
        return data

    def rescaled(x: np.ndarray) -> np.ndarray:
        return np.round(x * np.float32(EIGHT_BIT_LEVELS - 1)) / np.float32(scale)

    return dataclasses.replace(
        data,
        x_train=rescaled(data.x_train),
        x_test=rescaled(data.x_test),
        levels=None,
        source=f"{data.source}; grey values byte/{scale}",
    )


def binarize_once(x: np.ndarray, seed: int) -> np.ndarray:
    """Returns a fixed Bernoulli(x) draw as float32 {0, 1}, same shape; same for the same seed."""
    uniform = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
    return (uniform < x).astype(np.float32)


def dequantize_once(x: np.ndarray, levels: int, seed: int) -> np.ndarray:
    """Returns a fixed draw (k + u) / levels for the values k / (levels - 1) of x, float32."""
    uniform = np.random.default_rng(seed).random(x.shape, dtype=np.float32)
    return ((np.round(x * (levels - 1)) + uniform) / levels).astype(np.float32)


def draw_once(data: DatasetArrays, x: np.ndarray, seed: int) -> np.ndarray:
    """Images x of ``data`` as the model sees them, drawn once with ``seed``: binarized when
    the data are binarized in training, dequantized when they are dequantized, else x."""
    if data.binarize:
        return binarize_once(x, seed)
    if data.dequantize:
        return dequantize_once(x, data.levels, seed)
    return x


def validation_count(size: int | float, total: int) -> int:
    """The number of the `total` training examples a validation `size` holds out: an int
    count, or a float fraction in (0, 1). Raises ValueError unless it leaves both parts
    non-empty."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"size must be an int count or a float fraction, got {size!r}")
    is_count = isinstance(size, numbers.Integral)
    fraction_ok = is_count or (math.isfinite(size) and 0.0 < size < 1.0)
    count = int(size) if is_count else round(float(size) * total) if fraction_ok else 0
    if not (fraction_ok and 0 < count < total):
        raise ValueError(
            f"the validation size (--validation) must select between 1 and {total - 1} of the "
            f"{total} training examples (an int count, or a fraction in (0, 1)), got {size!r}"
        )
    return count


def split_validation(
    data: DatasetArrays, size: int | float, seed: int
) -> tuple[DatasetArrays, np.ndarray, np.ndarray | None]:
    """Returns (data without the validation examples, x_val, y_val or None).

    ``size`` is a count (int >= 1) or a fraction of x_train (float in (0, 1)); the held-out
    examples are chosen with ``seed``, and both parts keep the original order.
    """
    total = len(data.x_train)
    count = validation_count(size, total)
    held_out = np.zeros(total, dtype=bool)
    held_out[np.random.default_rng(seed).permutation(total)[:count]] = True
    y = data.y_train
    reduced = dataclasses.replace(
        data,
        x_train=data.x_train[~held_out],
        y_train=None if y is None else y[~held_out],
        source=f"{data.source}; {count} training examples held out for validation (seed {seed})",
    )
    return reduced, data.x_train[held_out], None if y is None else y[held_out]


def split_examples(
    data: DatasetArrays, split: str, validation: float = 0, seed: int = 0
) -> np.ndarray:
    """The examples of one split of a run's data as loaded (grey values), [M, *image_shape].

    "train" and "validation" are the training set without, or only, the examples a run
    held out with `validation` and `seed` (see `data.split_validation`).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "test":
        return data.x_test
    if split == "validation" and not validation:
        raise ValueError("the run held out no validation set; evaluate the test or train split")
    if not validation:
        return data.x_train
    reduced, x_val, _ = split_validation(data, validation, seed)
    return x_val if split == "validation" else reduced.x_train


def split_images(
    data: DatasetArrays, split: str, validation: float = 0, seed: int = 0
) -> np.ndarray:
    """The examples of one split as evaluated: binarized (or dequantized) once with a fixed
    seed when the data are binarized (dequantized) afresh in training, else as they are
    (docs/method.md §4). [M, *image_shape]."""
    return draw_once(data, split_examples(data, split, validation, seed), TEST_BINARIZATION_SEED)


def test_images(data: DatasetArrays) -> np.ndarray:
    """The test set as evaluated (see `split_images`). [M, *image_shape]."""
    return split_images(data, "test")


def training_images(data: DatasetArrays, x_train: np.ndarray, seed: int) -> np.ndarray:
    """The training set of the batch-norm statistics pass: a fresh draw with `seed` of what
    training sees (see `draw_once`)."""
    return draw_once(data, x_train, seed)
