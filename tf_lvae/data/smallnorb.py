"""small NORB (LeCun et al.) in its official binary matrix files, gzipped or not.

The "-dat.mat"/"-cat.mat" files are not MATLAB files: a little-endian int32 magic
(0x1E3D4C55 uint8, 0x1E3D4C54 int32), int32 ndim, max(3, ndim) int32 dims, then the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tf_lvae.data.arrays import (
    DatasetArrays,
    DatasetError,
    area_downsample,
    as_labels,
    find_file,
    payload,
    read_maybe_gzipped,
    read_split_files,
)
from tf_lvae.data.datasets import DATASETS

NORB_FILES = {
    "x_train": "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat",
    "y_train": "smallnorb-5x46789x9x18x6x2x96x96-training-cat.mat",
    "x_test": "smallnorb-5x01235x9x18x6x2x96x96-testing-dat.mat",
    "y_test": "smallnorb-5x01235x9x18x6x2x96x96-testing-cat.mat",
}
_MAGIC_DTYPES = {0x1E3D4C55: np.dtype("u1"), 0x1E3D4C54: np.dtype("<i4")}


def read_norb_matrix(path: Path) -> np.ndarray:
    """Returns the array of a NORB binary matrix file (uint8 or int32, shape from its header)."""
    data = read_maybe_gzipped(path)
    magic = int(np.frombuffer(data, "<i4", count=1)[0]) if len(data) >= 8 else None
    if magic not in _MAGIC_DTYPES:
        raise DatasetError(
            f"{path}: not a NORB binary matrix (magic {data[:4][::-1].hex()}, expected "
            "1e3d4c55 or 1e3d4c54); expected the original small NORB files"
        )
    dtype, ndim = _MAGIC_DTYPES[magic], int(np.frombuffer(data, "<i4", count=1, offset=4)[0])
    header = 8 + 4 * max(3, ndim)
    if not 1 <= ndim <= 16 or len(data) < header:
        raise DatasetError(f"{path}: corrupt NORB header (ndim {ndim}, {len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, "<i4", count=ndim, offset=8))
    return payload(path, data, header, shape, dtype)


def find_norb_files(folder: Path) -> dict[str, Path | None]:
    """Returns, per DatasetArrays field, the small NORB file found in ``folder`` or None."""
    return {key: find_file(folder, name) for key, name in NORB_FILES.items()}


def downsample_grey(images: np.ndarray) -> np.ndarray:
    """Returns uint8 images [..., 96, 96] area-downsampled to 32x32 and rounded to 8 bits, as
    the authors' 32x32 files are: float32 [..., 32, 32] in [0, 1], multiples of 1/255."""
    return np.round(area_downsample(images, DATASETS["norb"].image_shape)) / np.float32(255.0)


def read_smallnorb(files: dict[str, Path]) -> DatasetArrays:
    """Returns small NORB: left camera, 96->32 area-downsampled to 8 bits, /255; labels =
    category 0-4; dequantized in training (Gaussian likelihood on 8-bit values)."""
    arrays = read_split_files(
        files,
        read_norb_matrix,
        lambda x: x.dtype == np.uint8 and x.ndim == 4 and x.shape[1] == 2,
        "uint8 stereo pairs [N, 2, H, W]",
    )
    return DATASETS["norb"].arrays(
        x_train=downsample_grey(arrays["x_train"][:, 0]),
        x_test=downsample_grey(arrays["x_test"][:, 0]),
        y_train=as_labels(arrays["y_train"]),
        y_test=as_labels(arrays["y_test"]),
        source="small NORB files "
        + ", ".join(str(p) for p in files.values())
        + " (left camera, 96x96 area-downsampled to 32x32, 8 bits)",
    )
