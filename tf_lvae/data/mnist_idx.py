"""MNIST in its original IDX files (LeCun & Cortes), gzipped or not."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tf_lvae.data.arrays import (
    DatasetArrays,
    DatasetError,
    as_labels,
    find_file,
    payload,
    read_maybe_gzipped,
    read_split_files,
    to_unit_float,
)
from tf_lvae.data.datasets import DATASETS

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path) -> np.ndarray:
    """Returns the array stored in an IDX file (shape and dtype from its header).

    Header: two zero bytes, a dtype code, the number of dimensions, then one
    big-endian int32 per dimension; the data follow in C order.
    """
    data = read_maybe_gzipped(path)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise DatasetError(
            f"{path}: not an IDX file (bad magic number {data[:4].hex()}); "
            "expected the original MNIST files from http://yann.lecun.com/exdb/mnist/"
        )
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header ({len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">i4", count=ndim, offset=4))
    return payload(path, data, header, shape, dtype)


def find_idx_files(folder: Path) -> dict[str, Path | None]:
    """Returns, per DatasetArrays field, the IDX file found in ``folder`` (plain or .gz) or None."""
    return {key: find_file(folder, name) for key, name in IDX_FILES.items()}


def read_mnist(files: dict[str, Path]) -> DatasetArrays:
    """Returns MNIST from the four IDX files: grey/255 float32 (N, 28, 28), int32 labels."""
    arrays = read_split_files(
        files,
        read_idx,
        lambda x: x.ndim == 3 and x.dtype == np.uint8,
        "uint8 images [N, rows, cols]",
    )
    return DATASETS["mnist"].arrays(
        x_train=to_unit_float(arrays["x_train"]),
        x_test=to_unit_float(arrays["x_test"]),
        y_train=as_labels(arrays["y_train"]),
        y_test=as_labels(arrays["y_test"]),
        source="MNIST IDX files " + ", ".join(str(p) for p in files.values()),
    )
