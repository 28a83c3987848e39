"""Users' own arrays in an .npz file.

Required: ``x_train`` and ``x_test`` [N, *image_shape] of uint8 (0..255), bool, or float
in [0, 1]; optional ``y_train``/``y_test`` integer labels [N]. The data get a Bernoulli
likelihood; they are binarized dynamically unless already binary. For a Gaussian
likelihood, keep the arrays as they are and choose it in the model configuration; uint8
arrays are then dequantized (see `DatasetArrays.levels`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tf_lvae.constants import EIGHT_BIT_LEVELS
from tf_lvae.data.arrays import (
    ArchiveError,
    DatasetArrays,
    DatasetError,
    as_labels,
    load_npz,
    to_unit_float,
)

_HOW_TO_SAVE = "save it with np.savez(path, x_train=..., x_test=..., y_train=..., y_test=...)"


def _images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    """Returns ``x`` validated and scaled to float32 [N, *image_shape] in [0, 1]."""
    if x.dtype != np.uint8 and x.dtype != np.bool_ and not np.issubdtype(x.dtype, np.floating):
        raise DatasetError(
            f"{path}: {key!r} has dtype {x.dtype}; use uint8 (0..255) or float in [0, 1]"
        )
    if x.ndim < 2 or x.size == 0:
        raise DatasetError(
            f"{path}: {key!r} must be [N, *image_shape] with at least one non-empty example, "
            f"got shape {x.shape}"
        )
    x = to_unit_float(x)
    if not (np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0):
        raise DatasetError(
            f"{path}: {key!r} values must be finite and in [0, 1] (float) or 0..255 (uint8), "
            f"got {x.min()}..{x.max()}; rescale them before saving"
        )
    return x


def _labels(path: Path, key: str, y: np.ndarray, count: int) -> np.ndarray:
    """Returns ``y`` validated as int32 [count]."""
    if not np.issubdtype(y.dtype, np.integer) or y.shape != (count,):
        raise DatasetError(
            f"{path}: {key!r} must hold {count} integer labels, got {y.dtype} {y.shape}"
        )
    return as_labels(y)


def read_npz(path: Path) -> DatasetArrays:
    """Returns the arrays of a user's .npz as DatasetArrays named ``npz:<path>``."""
    try:
        arrays = load_npz(path)
    except FileNotFoundError as err:
        raise DatasetError(f"{path}: no such file; {_HOW_TO_SAVE}") from err
    except ArchiveError as err:
        raise DatasetError(f"{err}; {_HOW_TO_SAVE}") from err
    for key in ("x_train", "x_test"):
        if key not in arrays:
            raise DatasetError(
                f"{path}: missing array {key!r} (found {sorted(arrays)}); {_HOW_TO_SAVE}"
            )
    x_train = _images(path, "x_train", arrays["x_train"])
    x_test = _images(path, "x_test", arrays["x_test"])
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"{path}: x_train images {x_train.shape[1:]} and x_test images "
            f"{x_test.shape[1:]} must have the same shape"
        )
    y_train, y_test = (
        _labels(path, key, arrays[key], len(x)) if key in arrays else None
        for key, x in (("y_train", x_train), ("y_test", x_test))
    )
    binary = all(((x == 0.0) | (x == 1.0)).all() for x in (x_train, x_test))
    eight_bit = arrays["x_train"].dtype == np.uint8 and arrays["x_test"].dtype == np.uint8
    return DatasetArrays(
        name=f"npz:{path}",
        x_train=x_train,
        x_test=x_test,
        y_train=y_train,
        y_test=y_test,
        likelihood="bernoulli",
        binarize=not binary,
        source=f"user arrays {path}" + (" (already binary)" if binary else ""),
        levels=EIGHT_BIT_LEVELS if eight_bit and not binary else None,
    )
