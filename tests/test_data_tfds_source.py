"""tensorflow-datasets loaders under tfds.testing.mock_data (nothing is downloaded)."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_lvae.data import DatasetError
from tf_lvae.data.tfds_source import TfdsDataMissing, load_tfds

NUM_EXAMPLES = 24


@pytest.mark.parametrize(
    ("name", "shape", "likelihood", "binarize", "labels"),
    [
        ("mnist", (28, 28), "bernoulli", True, True),
        ("binarized_mnist", (28, 28), "bernoulli", False, False),
        ("norb", (32, 32), "gaussian", False, True),
    ],
)
def test_mock_tfds(tmp_path, name, shape, likelihood, binarize, labels):
    with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
        data = load_tfds(name, str(tmp_path), download=False)
    assert data.image_shape == shape and data.likelihood == likelihood
    assert data.binarize == binarize and str(tmp_path) in data.source
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
        assert (y is not None) == labels
        if labels:
            assert y.dtype == np.int32 and y.shape == x.shape[:1]
    assert len(data.x_train) == NUM_EXAMPLES and len(data.x_test) == NUM_EXAMPLES
    if name == "binarized_mnist":
        assert set(np.unique(data.x_train)) <= {0.0, 1.0}


def omniglot_records(self, split, **kwargs):
    """Returns 3 characters x 20 drawers, interleaved; drawer d has d black rows of ink."""
    del self, split, kwargs
    images, labels = [], []
    for drawer in range(1, 21):
        for character in (7, 3, 1000):
            image = np.full((105, 105, 3), 255, np.uint8)
            image[:drawer] = 0
            images.append(image)
            labels.append(character)
    return tf.data.Dataset.from_tensor_slices(
        {
            "image": np.stack(images),
            "label": np.array(labels, np.int64),
            "alphabet": np.array(labels, np.int64) % 50,
            "alphabet_char_id": np.zeros(len(labels), np.int64),
        }
    )


def test_mock_omniglot_drawer_split(tmp_path):
    with tfds.testing.mock_data(as_dataset_fn=omniglot_records):
        data = load_tfds("omniglot", str(tmp_path), download=False)
    assert data.x_train.shape == (45, 28, 28) and data.x_test.shape == (15, 28, 28)
    assert data.x_train.dtype == np.float32 and data.binarize and "stand-in" in data.source
    drawers = np.rint(data.x_train.mean(axis=(1, 2)) * 105).astype(int)
    np.testing.assert_array_equal(drawers, np.tile(np.arange(1, 16), 3))
    np.testing.assert_array_equal(data.y_train[::15], [3, 7, 0])  # alphabet, by character id
    np.testing.assert_array_equal(data.y_test.shape, (15,))


def test_mock_omniglot_random(tmp_path):
    """The real tfds feature spec (105x105x3 images, label, alphabet) converts."""
    with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
        data = load_tfds("omniglot", str(tmp_path), download=False)
    assert data.x_train.shape[1:] == (28, 28) and len(data.x_train) >= NUM_EXAMPLES // 2
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() <= 1.0
    assert data.y_train.dtype == np.int32 and data.y_train.max() < 50


def test_missing_without_download(tmp_path):
    with pytest.raises(TfdsDataMissing, match=f"'mnist' in {tmp_path}") as error:
        load_tfds("mnist", str(tmp_path), download=False)
    assert isinstance(error.value, DatasetError)
