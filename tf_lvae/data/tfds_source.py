"""tensorflow-datasets loaders, converted to the same DatasetArrays as the file readers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_lvae.data import omniglot, smallnorb
from tf_lvae.data.arrays import (
    EIGHT_BIT_LEVELS,
    DatasetArrays,
    DatasetError,
    as_labels,
    to_unit_float,
)

TFDS_NAMES = {
    "mnist": "mnist",
    "binarized_mnist": "binarized_mnist",
    "omniglot": "omniglot",
    "norb": "smallnorb",
}
_CHUNK = 1024


class TfdsDataMissing(DatasetError):
    """The dataset is not prepared in the tensorflow-datasets directory and download is off."""


def tfds_dir(data_dir: str | None) -> str:
    """Returns the tensorflow-datasets directory used for ``data_dir`` (None: tfds default)."""
    return data_dir or tfds.core.constants.DATA_DIR


def _batches(
    tfds_name: str, split: str, data_dir: str | None, download: bool, features: tuple[str, ...]
) -> Iterator[dict[str, np.ndarray]]:
    """Returns an iterator over numpy batches (dicts of ``features``) of a tfds split, in order."""
    try:
        ds = tfds.load(
            tfds_name,
            split=split,
            data_dir=data_dir,
            download=download,
            shuffle_files=False,
            decoders={"image2": tfds.decode.SkipDecoding()} if tfds_name == "smallnorb" else None,
        )
    except AssertionError as err:
        raise TfdsDataMissing(
            f"tensorflow-datasets found no '{tfds_name}' in {tfds_dir(data_dir)}"
        ) from err
    except (OSError, tfds.download.DownloadError) as err:
        raise DatasetError(
            f"tensorflow-datasets could not download or prepare '{tfds_name}' in "
            f"{tfds_dir(data_dir)}: {err}"
        ) from err
    ds = ds.map(lambda example: {k: example[k] for k in features}).batch(_CHUNK)
    return iter(tfds.as_numpy(ds.prefetch(tf.data.AUTOTUNE)))


def _collect(
    batches: Iterator[dict[str, np.ndarray]],
    convert: dict[str, Callable[[np.ndarray], np.ndarray]],
) -> dict[str, np.ndarray]:
    """Returns, per key of ``convert``, the concatenation of convert[key](batch[key])."""
    parts: dict[str, list[np.ndarray]] = {key: [] for key in convert}
    for batch in batches:
        for key, fn in convert.items():
            parts[key].append(fn(batch[key]))
    return {key: np.concatenate(arrays) for key, arrays in parts.items()}


def _grey_images(image: np.ndarray) -> np.ndarray:
    """Returns uint8 images [n, 28, 28, 1] as float32 [n, 28, 28] in [0, 1]."""
    return to_unit_float(image[..., 0])


def _binary_images(image: np.ndarray) -> np.ndarray:
    """Returns binarized-MNIST images [n, 28, 28, 1] (0/1) as float32 [n, 28, 28] in {0, 1}."""
    return (image[..., 0] > 0).astype(np.float32)


def _load_mnist(data_dir: str | None, download: bool) -> DatasetArrays:
    """Returns MNIST train/test splits: grey/255, digit labels."""
    split = {
        s: _collect(
            _batches("mnist", s, data_dir, download, ("image", "label")),
            {"image": _grey_images, "label": as_labels},
        )
        for s in ("train", "test")
    }
    return DatasetArrays(
        name="mnist",
        x_train=split["train"]["image"],
        x_test=split["test"]["image"],
        y_train=split["train"]["label"],
        y_test=split["test"]["label"],
        likelihood="bernoulli",
        binarize=True,
        source=f"tensorflow-datasets mnist in {tfds_dir(data_dir)}",
        levels=EIGHT_BIT_LEVELS,
    )


def _load_binarized_mnist(data_dir: str | None, download: bool) -> DatasetArrays:
    """Returns Larochelle's binarized MNIST: train+validation / test, no labels."""
    train, test = (
        _collect(
            _batches("binarized_mnist", s, data_dir, download, ("image",)),
            {"image": _binary_images},
        )["image"]
        for s in ("train+validation", "test")
    )
    return DatasetArrays(
        name="binarized_mnist",
        x_train=train,
        x_test=test,
        y_train=None,
        y_test=None,
        likelihood="bernoulli",
        binarize=False,
        source=(
            f"tensorflow-datasets binarized_mnist in {tfds_dir(data_dir)} (Larochelle's fixed "
            "binarization; train = train (50,000) + validation (10,000) splits)"
        ),
    )


def _load_omniglot(data_dir: str | None, download: bool) -> DatasetArrays:
    """Returns OMNIGLOT train+test splits regrouped by omniglot.drawer_split."""
    arrays = _collect(
        _batches("omniglot", "train+test", data_dir, download, ("image", "label", "alphabet")),
        {
            "image": lambda image: omniglot.downsample_ink(image[..., 0], white=255.0),
            "label": np.asarray,
            "alphabet": np.asarray,
        },
    )
    return omniglot.drawer_split(
        arrays["image"],
        arrays["label"],
        arrays["alphabet"],
        f"tensorflow-datasets omniglot (train+test splits) in {tfds_dir(data_dir)}, "
        "drawers taken in tfds record order (tfds does not store drawer numbers)",
    )


def _load_smallnorb(data_dir: str | None, download: bool) -> DatasetArrays:
    """Returns small NORB: left camera 32x32 in [0, 1], category labels."""
    split = {
        s: _collect(
            _batches("smallnorb", s, data_dir, download, ("image", "label_category")),
            {
                "image": lambda image: smallnorb.downsample_grey(image[..., 0]),
                "label_category": as_labels,
            },
        )
        for s in ("train", "test")
    }
    return DatasetArrays(
        name="norb",
        x_train=split["train"]["image"],
        x_test=split["test"]["image"],
        y_train=split["train"]["label_category"],
        y_test=split["test"]["label_category"],
        likelihood="gaussian",
        binarize=False,
        levels=EIGHT_BIT_LEVELS,
        dequantize=True,
        source=(
            f"tensorflow-datasets smallnorb in {tfds_dir(data_dir)} "
            "(left camera, 96x96 area-downsampled to 32x32, 8 bits)"
        ),
    )


_LOADERS = {
    "mnist": _load_mnist,
    "binarized_mnist": _load_binarized_mnist,
    "omniglot": _load_omniglot,
    "norb": _load_smallnorb,
}


def load_tfds(name: str, data_dir: str | None = None, *, download: bool = True) -> DatasetArrays:
    """Returns dataset ``name`` (a key of TFDS_NAMES) from tensorflow-datasets.

    ``data_dir`` is the tfds directory (None: its default); with ``download`` tfds
    downloads and prepares missing data, otherwise TfdsDataMissing is raised.
    """
    return _LOADERS[name](data_dir, download)
