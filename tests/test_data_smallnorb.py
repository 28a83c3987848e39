"""small NORB reader on files written in the official binary matrix format."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from tf_lvae.data import DatasetError
from tf_lvae.data.smallnorb import NORB_FILES, find_norb_files, read_norb_matrix, read_smallnorb

MAGIC = {np.dtype("u1"): 0x1E3D4C55, np.dtype("<i4"): 0x1E3D4C54}


def write_norb(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """Writes ``array`` (uint8 or int32) as a NORB binary matrix: magic, ndim, max(3, ndim) dims."""
    dims = list(array.shape) + [1] * (3 - array.ndim)
    header = np.array([MAGIC[array.dtype], array.ndim, *dims], "<i4").tobytes()
    data = header + array.tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_smallnorb(folder: Path, n: int = 7, gz: bool = False) -> dict:
    """Writes the four dat/cat files (plus info files) with random content; returns the arrays."""
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (n, 2, 96, 96), dtype=np.uint8),
        "y_train": rng.integers(0, 5, n).astype("<i4"),
        "x_test": rng.integers(0, 256, (n + 1, 2, 96, 96), dtype=np.uint8),
        "y_test": rng.integers(0, 5, n + 1).astype("<i4"),
    }
    for key, name in NORB_FILES.items():
        write_norb(folder / (name + ".gz" if gz else name), arrays[key], gz)
        info = rng.integers(0, 9, (len(arrays[key]), 4)).astype("<i4")
        write_norb(folder / name.replace("-dat", "-info").replace("-cat", "-info"), info)
    return arrays


def test_matrix_round_trip_1d_and_4d(tmp_path):
    labels = np.arange(5, dtype="<i4")
    np.testing.assert_array_equal(read_norb_matrix(write_norb(tmp_path / "c", labels)), labels)
    pairs = np.arange(2 * 2 * 3 * 4, dtype=np.uint8).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(
        read_norb_matrix(write_norb(tmp_path / "d", pairs, gz=True)), pairs
    )


@pytest.mark.parametrize("gz", [False, True])
def test_read_smallnorb(tmp_path, gz):
    arrays = write_smallnorb(tmp_path, gz=gz)
    data = read_smallnorb(find_norb_files(tmp_path))
    assert data.x_train.shape == (7, 32, 32) and data.x_test.shape == (8, 32, 32)
    assert data.x_train.dtype == np.float32 and data.image_shape == (32, 32)
    left = arrays["x_train"][:, 0].astype(np.float64)
    blocks = left.reshape(7, 32, 3, 32, 3).mean(axis=(2, 4))  # 3x3 blocks, left camera
    expected = np.round(blocks) / 255  # 8 bits, as the authors' 32x32 files
    np.testing.assert_allclose(data.x_train, expected, atol=1e-6)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.likelihood == "gaussian" and not data.binarize
    assert data.levels == 256 and data.dequantize


def test_bad_magic(tmp_path):
    path = tmp_path / NORB_FILES["x_train"]
    path.write_bytes(np.array([0x12345678, 1, 3, 1, 1], "<i4").tobytes() + bytes(3))
    with pytest.raises(DatasetError, match=r"training-dat.mat.*magic"):
        read_norb_matrix(path)


def test_truncated(tmp_path):
    path = write_norb(tmp_path / NORB_FILES["x_test"], np.zeros((3, 2, 96, 96), np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DatasetError, match=r"testing-dat.mat.*truncated"):
        read_norb_matrix(path)


def test_category_count_mismatch(tmp_path):
    write_smallnorb(tmp_path)
    write_norb(tmp_path / NORB_FILES["y_train"], np.zeros(3, "<i4"))
    with pytest.raises(DatasetError, match=r"training-cat.mat"):
        read_smallnorb(find_norb_files(tmp_path))
