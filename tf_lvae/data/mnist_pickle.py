"""MNIST as the authors read it: the LISA lab's mnist.pkl.gz (deeplearning.net), a pickled
((x, y), (x, y), (x, y)) of 50,000 training, 10,000 validation and 10,000 test images, each
a float32 row of 784 grey values byte/256 (lisa-lab/pylearn2 issue 93: its largest value is
255/256), with int64 labels. The authors' code (parmesan's `load_mnist_realval`) trains on
the training and validation images together; so does this reader.

The file is a Python 2 pickle. It is read with an unpickler that builds nothing but NumPy
arrays and the tuples holding them, so a tampered file cannot run code.
"""

from __future__ import annotations

import codecs
import io
import pickle
from pathlib import Path

import numpy as np

from tf_lvae.constants import EIGHT_BIT_LEVELS
from tf_lvae.data.arrays import (
    DatasetArrays,
    DatasetError,
    as_labels,
    read_maybe_gzipped,
    to_unit_float,
)
from tf_lvae.data.datasets import DATASETS

PICKLE_FILES = ("mnist.pkl.gz", "mnist.pkl")
_IMAGE_SIDE = 28
_SPLITS = ("training", "validation", "test")  # 50,000, 10,000 and 10,000 images
# The only names the file may refer to: NumPy's array reconstructor, ndarray and dtype, under
# their NumPy 1 (numpy.core) or NumPy 2 (numpy._core) module names, and the codec with which
# Python 3's protocol 2 writes bytes (a copy of the file pickled again there).
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"refers to {module}.{name}, not a NumPy array") from None


def find_pickle(folder: Path) -> Path | None:
    """Returns folder/mnist.pkl.gz (or mnist.pkl) if it exists, else None."""
    return next((folder / n for n in PICKLE_FILES if (folder / n).is_file()), None)


def _levels(path: Path, split: str, x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """The split's images as uint8 levels [N, 28, 28] (byte = value * 256) and its labels,
    checked: DatasetError saying what is wrong otherwise."""
    if not (
        isinstance(x, np.ndarray)
        and isinstance(y, np.ndarray)
        and x.ndim == 2
        and x.shape[1] == _IMAGE_SIDE * _IMAGE_SIDE
        and np.issubdtype(x.dtype, np.floating)
        and y.shape == x.shape[:1]
    ):
        raise DatasetError(
            f"{path}: its {split} set is not float rows of {_IMAGE_SIDE**2} pixels with a "
            "label each; expected the LISA lab's mnist.pkl.gz"
        )
    levels = np.asarray(x, np.float64) * EIGHT_BIT_LEVELS
    if not (np.all(levels == np.round(levels)) and levels.min() >= 0 and levels.max() < 256):
        raise DatasetError(
            f"{path}: its {split} grey values are not bytes / 256 (the LISA lab's mnist.pkl.gz "
            "stores 0, 1/256, ..., 255/256)"
        )
    return levels.astype(np.uint8).reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE), y


def read_mnist_pickle(path: Path) -> DatasetArrays:
    """Returns MNIST from mnist.pkl.gz: train = its 50,000 training + 10,000 validation images
    (as the authors), test = its 10,000 test images; grey values byte/255 as every 8-bit
    source (`RunConfig.pixel_scale` 256 gives back the file's values exactly)."""
    try:
        loaded = _ArraysOnly(io.BytesIO(read_maybe_gzipped(path)), encoding="latin1").load()
        pairs = [(split, x, y) for split, (x, y) in zip(_SPLITS, loaded, strict=True)]
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise DatasetError(
            f"{path}: not the LISA lab's mnist.pkl.gz, a pickle of three (images, labels) "
            f"pairs ({err})"
        ) from err
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = (
        _levels(path, *pair) for pair in pairs
    )
    return DATASETS["mnist"].arrays(
        x_train=to_unit_float(np.concatenate([x_train, x_valid])),
        x_test=to_unit_float(x_test),
        y_train=as_labels(np.concatenate([y_train, y_valid])),
        y_test=as_labels(y_test),
        source=f"{path} (the LISA lab's MNIST pickle: training + validation images as train)",
    )
