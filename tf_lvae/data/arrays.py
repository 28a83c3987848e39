"""The in-memory dataset type and helpers shared by every data source."""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tf_lvae.config import DISCRETE_LIKELIHOODS, LIKELIHOODS

SPLIT_FILES = ("x_train", "y_train", "x_test", "y_test")
_GZIP_MAGIC = b"\x1f\x8b"
_DOWNSAMPLE_CHUNK = 1024


class DatasetError(Exception):
    """A dataset could not be found, read or validated; the message says how to fix it."""


@dataclass(frozen=True)
class DatasetArrays:
    """A whole dataset in memory, preprocessed for training.

    ``x_train``/``x_test`` are float32 ``[N, *image_shape]`` with values in [0, 1];
    ``y_train``/``y_test`` are int32 ``[N]`` class labels (used for plots) or None.
    ``likelihood`` is the data's (a dataset's default, or a run's model's once
    `splits.load_run_data` has set it); ``binarize`` asks for dynamic
    binarization of the training set and a single binarization of the test set.
    ``source`` says where the data came from and notes any stand-in.
    ``levels``: the values are integers k / (levels - 1) (8-bit images: 256 levels), or
    None (continuous or binary values). ``dequantize`` asks for uniform dequantization
    of those integers, (k + u) / levels with u ~ U[0, 1), drawn afresh every epoch in
    training and once for evaluation (a Gaussian likelihood on integer data; see
    `tf_lvae.data.pipeline`).
    """

    name: str
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None
    y_test: np.ndarray | None
    likelihood: str
    binarize: bool
    source: str
    levels: int | None = None
    dequantize: bool = False

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x = getattr(self, f"x_{split}")
            y = getattr(self, f"y_{split}")
            if x.dtype != np.float32 or x.ndim < 2:
                raise ValueError(
                    f"{self.name}: x_{split} must be float32 [N, *image_shape], "
                    f"got {x.dtype} {x.shape}"
                )
            if y is not None and (y.dtype != np.int32 or y.shape != x.shape[:1]):
                raise ValueError(
                    f"{self.name}: y_{split} must be int32 [{len(x)}], got {y.dtype} {y.shape}"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"{self.name}: train images {self.x_train.shape[1:]} and test images "
                f"{self.x_test.shape[1:]} differ in shape"
            )
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.dequantize and (self.levels is None or self.binarize):
            raise ValueError(
                f"{self.name}: dequantization needs integer-valued data (levels) that are not "
                "binarized"
            )

    @property
    def dequantize_levels(self) -> int | None:
        """The levels of the uniform dequantization the data ask for, or None."""
        return self.levels if self.dequantize else None

    @property
    def bits_scale(self) -> int | None:
        """s of the test bits/dim, (-LL + D log s) / (D log 2) for D values: the
        dequantization's levels (then an upper bound on the bits of the integers k), 1 for a
        likelihood of the 8-bit levels themselves (the bound of their own log P(x)), or None
        (binary or continuous values: no bits/dim)."""
        if self.dequantize:
            return self.levels
        if self.likelihood in DISCRETE_LIKELIHOODS and self.levels is not None:
            return 1
        return None

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. (28, 28)."""
        return tuple(self.x_train.shape[1:])


def to_unit_float(x: np.ndarray) -> np.ndarray:
    """Returns uint8 grey values 0..255 (or bool) as float32 in [0, 1], same shape."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    return x.astype(np.float32)


def as_labels(y: np.ndarray) -> np.ndarray:
    """Returns class labels as int32 [N]."""
    return np.asarray(y).reshape(-1).astype(np.int32)


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Returns the [n_out, n_in] float32 matrix averaging each output cell's input area."""
    scale = n_in / n_out
    low = np.arange(n_out)[:, None] * scale
    pixel = np.arange(n_in)[None, :]
    overlap = np.minimum(low + scale, pixel + 1) - np.maximum(low, pixel)
    return (np.clip(overlap, 0.0, None) / scale).astype(np.float32)


def area_downsample(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Shrinks the last two axes to ``size`` by area averaging (as tf.image.resize "area").

    ``images`` is [..., H, W] of any real or bool dtype; returns float32 [..., h, w] whose
    pixels are the mean of the input area they cover. Works in chunks to bound memory.
    """
    height, width = images.shape[-2:]
    rows, cols = _area_matrix(height, size[0]), _area_matrix(width, size[1]).T
    flat = images.reshape(-1, height, width)
    out = np.empty((len(flat), *size), dtype=np.float32)
    for start in range(0, len(flat), _DOWNSAMPLE_CHUNK):
        chunk = flat[start : start + _DOWNSAMPLE_CHUNK].astype(np.float32)
        out[start : start + _DOWNSAMPLE_CHUNK] = rows @ chunk @ cols
    return out.reshape(*images.shape[:-2], *size)


def memory_limit() -> int:
    """Half of this machine's physical memory, in bytes: the most any one file may unpack to."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


class ArchiveError(ValueError):
    """An .npz archive that cannot be read safely; the message names the file and why."""


def load_npz(path: Path, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every array of an .npz file, after checking from the headers, before reading any
    data, that it holds plain arrays (no pickled objects) that unpack to at most
    `max_bytes` (default: `memory_limit()`). Raises FileNotFoundError or ArchiveError."""
    limit = memory_limit() if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(f)
                if dtype.hasobject:
                    raise ArchiveError(f"{path}: {info.filename} holds Python objects, refused")
                total += int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if total > limit:
                raise ArchiveError(
                    f"{path}: its arrays would take {total / 2**30:.1f} GiB, more than "
                    f"{limit / 2**30:.1f} GiB (half of this machine's memory)"
                )
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}
    except FileNotFoundError:
        raise
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, ArchiveError):
            raise
        raise ArchiveError(f"{path}: not a readable .npz file ({err})") from err


def find_file(folder: Path, name: str) -> Path | None:
    """Returns ``folder/name`` or ``folder/name.gz``, whichever exists first, else None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_maybe_gzipped(path: Path) -> bytes:
    """Returns the bytes of ``path``, decompressed when it is gzip data (whatever its name)."""
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == _GZIP_MAGIC else raw
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetError(
            f"{path}: cannot read the file ({err}); it may be truncated or corrupt, "
            "download it again"
        ) from err


def read_split_files(
    files: dict[str, Path],
    read: Callable[[Path], np.ndarray],
    valid_images: Callable[[np.ndarray], bool],
    expected: str,
) -> dict[str, np.ndarray]:
    """Returns the arrays of the four files x_train, y_train, x_test, y_test, read with
    `read`, after checking each split's images with `valid_images` (else a DatasetError
    saying `expected`) and that its labels are one per image."""
    arrays = {key: read(files[key]) for key in SPLIT_FILES}
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if not valid_images(images):
            raise DatasetError(
                f"{files[f'x_{split}']}: expected {expected}, got {images.dtype} {images.shape}"
            )
        if labels.shape != images.shape[:1]:
            raise DatasetError(
                f"{files[f'y_{split}']}: labels of shape {labels.shape} do not match the "
                f"{images.shape[0]} examples in {files[f'x_{split}']}"
            )
    return arrays


def payload(path: Path, data: bytes, header: int, shape: tuple[int, ...], dtype: np.dtype):
    """Returns the array after a binary header of `header` bytes, checking that the file
    holds exactly the bytes the header announces for `shape` and `dtype`."""
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise DatasetError(
            f"{path}: header announces shape {shape} ({expected} bytes) but the file has "
            f"{len(data)} bytes; the file is truncated or corrupt, download it again"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape)
