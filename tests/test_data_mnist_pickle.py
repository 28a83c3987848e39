"""The authors' MNIST file, the LISA lab's mnist.pkl.gz: read safely, train = training +
validation, and bit for bit the file's values on the authors' pixel scale."""

import gzip
import os
import pickle

import numpy as np
import pytest

from tests.support.lisa_pickle import write_lisa_pickle
from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.data import DatasetError, load_dataset
from tf_lvae.data.mnist_idx import find_idx_files, read_mnist
from tf_lvae.data.mnist_pickle import read_mnist_pickle
from tf_lvae.data.splits import load_run_data
from tf_lvae.run_config import RunConfig


def random_splits(sizes=(30, 10, 8)) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)) for n in sizes
    ]


def test_train_is_training_and_validation_and_the_authors_scale_gives_the_file_back(tmp_path):
    splits = random_splits()
    path = write_lisa_pickle(tmp_path / "mnist.pkl.gz", splits)
    data = load_dataset("mnist", str(tmp_path))
    assert data.source.startswith(str(path)) and data.levels == 256 and data.binarize
    expected_train = np.concatenate([splits[0][0], splits[1][0]])
    np.testing.assert_array_equal(np.round(data.x_train * 255), expected_train)
    np.testing.assert_array_equal(data.y_train, np.concatenate([splits[0][1], splits[1][1]]))
    np.testing.assert_array_equal(np.round(data.x_test * 255), splits[2][0])
    model = ModelConfig(latent_dims=(2,), hidden_dims=(4,))
    authors = load_run_data(
        RunConfig("mnist", str(tmp_path), model, TrainingConfig(), pixel_scale=256), data
    )
    with gzip.open(path) as f:
        stored = pickle.load(f, encoding="latin1")  # the test's own file: safe to unpickle
    file_train = np.concatenate([stored[0][0], stored[1][0]]).reshape(-1, 28, 28)
    assert authors.x_train.dtype == file_train.dtype == np.float32
    np.testing.assert_array_equal(authors.x_train, file_train)  # bit for bit
    np.testing.assert_array_equal(authors.x_test, stored[2][0].reshape(-1, 28, 28))


def test_the_idx_files_come_first(tmp_path, shared_data):
    write_lisa_pickle(tmp_path / "mnist.pkl.gz", random_splits())
    for name in os.listdir(shared_data / "mnist"):
        (tmp_path / name).symlink_to(shared_data / "mnist" / name)
    assert load_dataset("mnist", str(tmp_path)).source.startswith("MNIST IDX files")


def test_the_real_mnist_as_the_lisa_file_holds_it(tmp_path, shared_data):
    """The real images written as the LISA lab's file (first 50,000 + last 10,000 training
    images, the test set) read back as the IDX files do."""
    idx = read_mnist(find_idx_files(shared_data / "mnist"))
    x, y = np.round(idx.x_train * 255).astype(np.uint8), idx.y_train
    test = (np.round(idx.x_test[:2000] * 255).astype(np.uint8), idx.y_test[:2000])
    path = write_lisa_pickle(
        tmp_path / "mnist.pkl.gz", [(x[:50000], y[:50000]), (x[50000:], y[50000:]), test]
    )
    data = read_mnist_pickle(path)
    np.testing.assert_array_equal(data.x_train, idx.x_train)
    np.testing.assert_array_equal(data.y_train, idx.y_train)
    np.testing.assert_array_equal(data.x_test, idx.x_test[:2000])


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "content, message",
    [
        (pickle.dumps(Payload(), protocol=2), "not a NumPy array"),
        (pickle.dumps(((np.zeros((3, 784)), np.zeros(3)),), protocol=2), "three"),
        (pickle.dumps([(np.zeros((3, 100)), np.zeros(3))] * 3, protocol=2), "784 pixels"),
        (pickle.dumps([(np.full((3, 784), 0.3), np.zeros(3))] * 3, protocol=2), "bytes / 256"),
        (b"not a pickle", "not the LISA lab's"),
    ],
)
def test_anything_else_is_refused_without_running_it(tmp_path, content, message):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DatasetError, match=message):
        read_mnist_pickle(path)
