"""load_dataset dispatch: files in data_dir, tfds fallback, npz:, mnist-sample, errors."""

import socket
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds
from scipy.io import savemat
from test_data_mnist_idx import write_mnist
from test_data_omniglot import write_npz, write_zips
from test_data_smallnorb import write_smallnorb

from tf_lvae.data import DatasetError, load_dataset
from tf_lvae.data.mnist_idx import IDX_FILES, find_idx_files, read_mnist


def test_mnist_idx_in_data_dir(tmp_path):
    arrays = write_mnist(tmp_path, gz=True)
    data = load_dataset("mnist", str(tmp_path), download=False)
    assert data.name == "mnist" and str(tmp_path) in data.source
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])


def test_partial_mnist_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / IDX_FILES["y_test"]).unlink()
    with pytest.raises(DatasetError, match=r"y_test"):
        load_dataset("mnist", str(tmp_path), download=False)


def test_missing_mnist_says_where_and_how(tmp_path):
    with pytest.raises(DatasetError) as error:
        load_dataset("mnist", str(tmp_path), download=False)
    message = str(error.value)
    assert "'mnist' not found" in message
    assert all(name in message for name in IDX_FILES.values())
    assert message.count(str(tmp_path)) >= 2  # the folder, and as tfds data_dir
    assert "tfds build mnist" in message and "download=True" in message


def test_missing_folder_and_binarized_mnist(tmp_path):
    with pytest.raises(DatasetError, match=r"no such folder"):
        load_dataset("norb", str(tmp_path / "absent"), download=False)
    with pytest.raises(DatasetError, match=r"tfds build binarized_mnist"):
        load_dataset("binarized_mnist", str(tmp_path), download=False)


def test_tfds_fallback_when_no_files(tmp_path):
    with tfds.testing.mock_data(num_examples=5):
        data = load_dataset("mnist", str(tmp_path), download=False)
    assert "tensorflow-datasets" in data.source and data.x_train.shape == (5, 28, 28)


def test_omniglot_preference_order(tmp_path):
    write_npz(tmp_path)
    assert "npz" in load_dataset("omniglot", str(tmp_path), download=False).source
    write_zips(tmp_path)
    assert "PNGs" in load_dataset("omniglot", str(tmp_path), download=False).source
    savemat(tmp_path / "chardata.mat", {"data": np.zeros((784, 3)), "testdata": np.ones((784, 2))})
    data = load_dataset("omniglot", str(tmp_path), download=False)
    assert "Burda" in data.source and data.x_train.shape == (3, 28, 28) and data.y_train is None


def test_norb_in_data_dir(tmp_path):
    write_smallnorb(tmp_path, gz=True)
    data = load_dataset("norb", str(tmp_path), download=False)
    assert data.name == "norb" and data.image_shape == (32, 32) and data.likelihood == "gaussian"


def test_npz_spec(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=np.zeros((3, 4), np.uint8), x_test=np.ones((2, 4), np.uint8))
    data = load_dataset(f"npz:{path}")
    assert data.name == f"npz:{path}" and data.image_shape == (4,)


def test_unknown_name():
    with pytest.raises(DatasetError, match=r"unknown dataset 'cifar'.*mnist-sample"):
        load_dataset("cifar")


def test_mnist_sample_from_package():
    data = load_dataset("mnist-sample", download=False)
    assert data.name == "mnist-sample" and data.binarize and data.likelihood == "bernoulli"
    assert data.x_train.shape == (5_000, 28, 28) and data.x_test.shape == (1_000, 28, 28)
    assert data.y_train.dtype == np.int32 and set(np.unique(data.y_test)) == set(range(10))


def test_mnist_sample_is_real_mnist(shared_data):
    sample = load_dataset("mnist-sample")
    full = read_mnist(find_idx_files(shared_data / "mnist"))
    np.testing.assert_array_equal(sample.x_train, full.x_train[:5_000])
    np.testing.assert_array_equal(sample.y_test, full.y_test[:1_000])


@pytest.fixture
def tfds_calls(monkeypatch):
    """tfds.load recorded: it finds nothing and cannot download (as offline, at once)."""
    calls = []

    def load(name, **options):
        calls.append(options["download"])
        if options["download"]:
            raise tfds.download.DownloadError(f"offline, {name} not downloaded")
        raise AssertionError(f"Dataset {name}: could not find data")

    monkeypatch.setattr(tfds, "load", load)
    return calls


def offline(monkeypatch) -> None:
    def refuse(address, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_data_dir_without_the_files_is_never_written_unless_a_download_is_asked(
    tmp_path, tfds_calls, monkeypatch
):
    (tmp_path / "notes.txt").write_text("the user's own")
    with pytest.raises(DatasetError) as error:
        load_dataset("omniglot", str(tmp_path))
    message = str(error.value)
    assert tfds_calls == [False] and len(message.splitlines()) == 1
    assert f"{tmp_path} holds none of chardata.mat" in message and "evaluation.npz" in message
    assert f"download and prepare it in {tmp_path} with --download" in message
    assert "tfds build omniglot --data_dir=DIR" in message
    offline(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(DatasetError, match=r"github\.com:443 cannot be reached") as error:
        load_dataset("omniglot", str(tmp_path), download=True)
    assert time.perf_counter() - start < 10 and len(str(error.value).splitlines()) == 1
    assert tfds_calls == [False]  # no download was started
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
