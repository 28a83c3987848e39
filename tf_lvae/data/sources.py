"""``load_dataset``: the one entry point from a dataset name to DatasetArrays."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from tf_lvae.data import (
    image_folder,
    mnist_idx,
    mnist_pickle,
    npz_source,
    omniglot,
    smallnorb,
    tfds_source,
)
from tf_lvae.data.arrays import DatasetArrays, DatasetError
from tf_lvae.data.datasets import DATASET_NAMES, DATASETS, FOLDER_PREFIX, NPZ_PREFIX

_FILE_HINTS = {
    "mnist": (
        "the MNIST IDX files "
        + ", ".join(mnist_idx.IDX_FILES.values())
        + " (each plain or .gz, from http://yann.lecun.com/exdb/mnist/), or the authors' "
        + mnist_pickle.PICKLE_FILES[0]
        + " (the LISA lab's, deeplearning.net)"
    ),
    "omniglot": (
        f"{omniglot.CHARDATA_FILE} (Burda et al.'s 28x28 split, from the IWAE repository "
        "github.com/yburda/iwae, datasets/OMNIGLOT), or "
        + " + ".join(omniglot.ZIP_FILES)
        + " (Lake et al., github.com/brendenlake/omniglot, python/), or "
        + " + ".join(omniglot.NPZ_FILES)
    ),
    "norb": (
        "the small NORB files "
        + ", ".join(smallnorb.NORB_FILES.values())
        + " (each plain or .gz, from https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/)"
    ),
}


def _read_complete(
    files: dict[str, Path | None],
    folder: Path,
    reader: Callable[[dict[str, Path]], DatasetArrays],
) -> DatasetArrays | None:
    """Returns reader(files) if all ``files`` were found, None if none were; raises if some were."""
    found = {key: path for key, path in files.items() if path is not None}
    if found and len(found) < len(files):
        missing = [key for key, path in files.items() if path is None]
        raise DatasetError(
            f"{folder}: found {', '.join(p.name for p in found.values())} but not the files "
            f"for {', '.join(missing)}; put all of them in the folder"
        )
    return reader(found) if found else None


def _mnist_files(folder: Path) -> DatasetArrays | None:
    """Returns MNIST from the IDX files in ``folder``, else from mnist.pkl.gz, else None."""
    found = _read_complete(mnist_idx.find_idx_files(folder), folder, mnist_idx.read_mnist)
    if found is not None:
        return found
    pickled = mnist_pickle.find_pickle(folder)
    return None if pickled is None else mnist_pickle.read_mnist_pickle(pickled)


def _omniglot_files(folder: Path) -> DatasetArrays | None:
    """Returns OMNIGLOT from chardata.mat, else the two zips, else the two npz, else None."""
    if (folder / omniglot.CHARDATA_FILE).is_file():
        return omniglot.read_chardata(folder / omniglot.CHARDATA_FILE)
    for names, reader in (
        (omniglot.ZIP_FILES, omniglot.read_zips),
        (omniglot.NPZ_FILES, omniglot.read_npz),
    ):
        pair = {name: folder / name if (folder / name).is_file() else None for name in names}
        found = _read_complete(pair, folder, lambda files, read=reader: read(*files.values()))
        if found is not None:
            return found
    return None


def _norb_files(folder: Path) -> DatasetArrays | None:
    """Returns small NORB from the binary files in ``folder``, or None if there are none."""
    return _read_complete(smallnorb.find_norb_files(folder), folder, smallnorb.read_smallnorb)


_FILE_READERS: dict[str, Callable[[Path], DatasetArrays | None]] = {
    "mnist": _mnist_files,
    "omniglot": _omniglot_files,
    "norb": _norb_files,
}


def mnist_sample() -> DatasetArrays:
    """Returns the bundled MNIST sample: the first 5,000 train / 1,000 test images."""
    sample = resources.files("tf_lvae.data").joinpath("samples", "mnist_sample.npz")
    with resources.as_file(sample) as path:
        data = npz_source.read_npz(path)
    return DATASETS["mnist-sample"].arrays(
        data.x_train,
        data.x_test,
        data.y_train,
        data.y_test,
        source="bundled MNIST sample (first 5,000 training and 1,000 test images of MNIST)",
    )


def _not_found(name: str, data_dir: str | None, tfds_error: DatasetError) -> DatasetError:
    """Returns the error saying, in one line, where ``name`` was looked for and how to get
    it."""
    tfds_name, tfds_dir = DATASETS[name].tfds_name, tfds_source.tfds_dir(data_dir)
    files = _FILE_HINTS.get(name)
    looked, how = [], []
    if files and data_dir is not None:
        looked.append(f"{Path(data_dir).expanduser()} holds none of {files}")
        how.append("put those files there")
    elif files:
        how.append(f"put {files} in a folder and pass it as --data-dir (data_dir)")
    if isinstance(tfds_error, tfds_source.TfdsDataMissing):
        looked.append(f"{tfds_error} (download was off)")
        how.append(
            f"let tensorflow-datasets download and prepare it in {tfds_dir} with --download "
            "(download=True)"
        )
    else:
        looked.append(str(tfds_error))
    how.append(
        f"run `tfds build {tfds_name} --data_dir=DIR` on a machine with internet access, copy "
        "DIR here and pass it as --data-dir"
    )
    return DatasetError(
        f"dataset '{name}' not found: {'; '.join(looked)}. To get it, {'; or '.join(how)}"
    )


def load_dataset(
    name: str,
    data_dir: str | None = None,
    *,
    download: bool | None = None,
    image_size: tuple[int, int] | None = None,
) -> DatasetArrays:
    """Returns dataset ``name`` as DatasetArrays.

    ``name`` is one of mnist, binarized_mnist, omniglot, norb, mnist-sample, ``npz:PATH``
    or ``folder:PATH`` (images, resized to ``image_size`` (H, W) if given; see
    `image_folder`). With ``data_dir`` the original files are looked for there first,
    then a tensorflow-datasets dataset prepared there; without it tfds uses its default
    directory. tfds downloads and prepares a missing dataset only when ``download`` is
    True, which by default (None) it is without ``data_dir`` only: a data_dir is written
    to only when asked. Raises DatasetError saying where it looked and how to get the data.
    """
    for prefix in (FOLDER_PREFIX, NPZ_PREFIX):
        if name.startswith(prefix) and not name[len(prefix) :].strip():
            raise DatasetError(
                f"--dataset {name!r} names no path: give {prefix}PATH (an unset shell variable "
                "leaves it empty)"
            )
    if name.startswith(FOLDER_PREFIX):
        return image_folder.read_image_folder(
            Path(name[len(FOLDER_PREFIX) :]).expanduser(), image_size
        )
    if image_size is not None:
        raise DatasetError(f"an image size (--image-size) applies to folder: datasets, not {name}")
    if name.startswith(NPZ_PREFIX):
        return npz_source.read_npz(Path(name[len(NPZ_PREFIX) :]).expanduser())
    if name == "mnist-sample":
        return mnist_sample()
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():  # before tensorflow-datasets would create it
            what = f"{_FILE_HINTS[name]}, or " if name in _FILE_HINTS else ""
            raise DatasetError(
                f"{folder}: no such folder (data_dir, --data-dir); give the folder that holds "
                f"{what}a tensorflow-datasets data_dir"
            )
        found = _FILE_READERS[name](folder) if name in _FILE_READERS else None
        if found is not None:
            return found
    if download is None:
        download = data_dir is None
    try:
        return tfds_source.load_tfds(name, data_dir, download=download)
    except DatasetError as err:
        raise _not_found(name, data_dir, err) from err
