"""Users' .npz arrays: scaling, binary detection, and clear errors on bad input."""

import numpy as np
import pytest

from tf_lvae.data import DatasetError
from tf_lvae.data.npz_source import read_npz


def save(tmp_path, **arrays):
    path = tmp_path / "user.npz"
    np.savez(path, **arrays)
    return path


def test_uint8_scaled_with_labels(tmp_path):
    x = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    path = save(tmp_path, x_train=x, x_test=x[:1], y_train=np.array([3, 4]), y_test=np.array([5]))
    data = read_npz(path)
    assert data.name == f"npz:{path}" and data.image_shape == (3, 4, 3)
    np.testing.assert_allclose(data.x_train, x / 255.0, atol=1e-7)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    np.testing.assert_array_equal(data.y_test, [5])
    assert data.binarize and data.likelihood == "bernoulli"


def test_binary_float_not_binarized_and_labels_optional(tmp_path):
    x = (np.random.default_rng(0).random((5, 7)) > 0.5).astype(np.float64)
    data = read_npz(save(tmp_path, x_train=x, x_test=x))
    assert not data.binarize and data.y_train is None and data.x_train.dtype == np.float32


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_train": np.zeros((2, 3))}, "missing array 'x_test'"),
        ({"x_train": np.full((2, 3), 1.5), "x_test": np.zeros((1, 3))}, "x_train.*\\[0, 1\\]"),
        ({"x_train": np.full((2, 3), np.nan), "x_test": np.zeros((1, 3))}, "x_train.*\\[0, 1\\]"),
        ({"x_train": np.zeros((2, 3), np.int64), "x_test": np.zeros((1, 3))}, "dtype int64"),
        ({"x_train": np.zeros((0, 3)), "x_test": np.zeros((1, 3))}, "at least one"),
        ({"x_train": np.zeros((2, 3)), "x_test": np.zeros((1, 4))}, "same shape"),
        ({"x_train": np.zeros(3), "x_test": np.zeros(3)}, "\\[N, \\*image_shape\\]"),
        (
            {"x_train": np.zeros((2, 3)), "x_test": np.zeros((1, 3)), "y_train": np.zeros(3, int)},
            "y_train.*2 integer labels",
        ),
    ],
)
def test_bad_inputs(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=f"user.npz.*{message}"):
        read_npz(save(tmp_path, **arrays))


def test_missing_and_corrupt_file(tmp_path):
    with pytest.raises(DatasetError, match=r"nothere.npz: no such file"):
        read_npz(tmp_path / "nothere.npz")
    (tmp_path / "user.npz").write_bytes(b"garbage" * 10)
    with pytest.raises(DatasetError, match=r"user.npz: not a readable"):
        read_npz(tmp_path / "user.npz")
