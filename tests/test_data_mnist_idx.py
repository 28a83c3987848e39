"""MNIST IDX reader: synthetic files in the official format, corrupt files, real copies."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from tf_lvae.data import DatasetError
from tf_lvae.data.mnist_idx import IDX_FILES, find_idx_files, read_idx, read_mnist


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """Writes a uint8 array as an IDX file (big-endian header), gzipped when ``gz``."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist(folder: Path, n_train: int = 12, n_test: int = 5, gz: bool = False) -> dict:
    """Writes the four MNIST files with random content; returns the arrays written."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, name in IDX_FILES.items():
        write_idx(folder / (name + ".gz" if gz else name), arrays[key], gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    path = write_idx(tmp_path / "images", images, gz)
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("gz", [False, True])
def test_read_mnist_scales_and_labels(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    files = find_idx_files(tmp_path)
    assert all(path is not None and path.name.endswith(".gz") == gz for path in files.values())
    data = read_mnist(files)
    assert data.x_train.dtype == np.float32 and data.x_train.shape == (12, 28, 28)
    np.testing.assert_allclose(data.x_train * 255, arrays["x_train"], atol=1e-4)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.y_train.dtype == np.int32
    assert data.likelihood == "bernoulli" and data.binarize
    assert data.image_shape == (28, 28)


def test_bad_magic_names_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(100))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*magic"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_file(tmp_path, gz):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    data = path.read_bytes()[:-10]
    path.write_bytes(gzip.compress(data)[:-20] if gz else data)
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.*(truncated|corrupt)"):
        read_idx(path)


def test_label_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    write_idx(tmp_path / IDX_FILES["y_test"], np.zeros(4, np.uint8))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte"):
        read_mnist(find_idx_files(tmp_path))


def test_real_mnist(shared_data):
    data = read_mnist(find_idx_files(shared_data / "mnist"))
    assert data.x_train.shape == (60_000, 28, 28) and data.x_test.shape == (10_000, 28, 28)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert 0.12 < data.x_train.mean() < 0.14
    np.testing.assert_array_equal(
        np.bincount(data.y_train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    )
    np.testing.assert_array_equal(
        np.bincount(data.y_test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
