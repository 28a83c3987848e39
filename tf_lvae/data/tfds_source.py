"""tensorflow-datasets loaders, converted to the same DatasetArrays as the file readers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_lvae.data import omniglot, smallnorb
from tf_lvae.data.arrays import DatasetArrays, DatasetError, as_labels, to_unit_float
from tf_lvae.data.datasets import DATASETS
from tf_lvae.data.network import unreachable

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


def _train_and_test(
    name: str,
    data_dir: str | None,
    download: bool,
    image: Callable[[np.ndarray], np.ndarray],
    label: str | None,
    splits: tuple[str, str] = ("train", "test"),
    note: str = "",
) -> DatasetArrays:
    """Returns dataset ``name`` from its two tfds splits: images converted by ``image``,
    labels from the feature ``label`` (None: no labels)."""
    facts = DATASETS[name]
    convert = {"image": image, **({label: as_labels} if label else {})}
    train, test = (
        _collect(_batches(facts.tfds_name, s, data_dir, download, tuple(convert)), convert)
        for s in splits
    )
    return facts.arrays(
        x_train=train["image"],
        x_test=test["image"],
        y_train=train.get(label),
        y_test=test.get(label),
        source=f"tensorflow-datasets {facts.tfds_name} in {tfds_dir(data_dir)}{note}",
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


_LOADERS: dict[str, Callable[[str | None, bool], DatasetArrays]] = {
    "mnist": functools.partial(_train_and_test, "mnist", image=_grey_images, label="label"),
    "binarized_mnist": functools.partial(
        _train_and_test,
        "binarized_mnist",
        image=_binary_images,
        label=None,
        splits=("train+validation", "test"),
        note=" (Larochelle's fixed binarization; train = train (50,000) + validation (10,000) "
        "splits)",
    ),
    "omniglot": _load_omniglot,
    "norb": functools.partial(
        _train_and_test,
        "norb",
        image=lambda image: smallnorb.downsample_grey(image[..., 0]),
        label="label_category",
        note=" (left camera, 96x96 area-downsampled to 32x32, 8 bits)",
    ),
}


def check_download(tfds_name: str, data_dir: str | None) -> None:
    """Raises DatasetError at once when ``tfds_name`` is not prepared in the tfds directory
    and a host of its files cannot be reached (tfds would retry it for minutes)."""
    builder = tfds.builder(tfds_name, data_dir=data_dir)
    if builder.is_prepared():
        return
    problem = unreachable(builder.url_infos or {})
    if problem:
        raise DatasetError(
            f"tensorflow-datasets cannot download '{tfds_name}' into {tfds_dir(data_dir)}: "
            f"{problem}"
        )


def load_tfds(name: str, data_dir: str | None = None, *, download: bool = True) -> DatasetArrays:
    """Returns dataset ``name`` (one of `datasets.DATASETS` with a tfds name) from
    tensorflow-datasets.

    ``data_dir`` is the tfds directory (None: its default); with ``download`` tfds
    downloads and prepares missing data (DatasetError at once when its hosts cannot be
    reached), otherwise TfdsDataMissing is raised.
    """
    if download:
        check_download(DATASETS[name].tfds_name, data_dir)
    return _LOADERS[name](data_dir, download)
