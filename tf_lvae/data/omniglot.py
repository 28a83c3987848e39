"""OMNIGLOT from Burda et al.'s chardata.mat, Lake et al.'s PNG zips, or the npz layout.

Burda et al.'s 28x28 split (24,345 train / 8,070 test) is what the paper used. From the
105x105 originals (zips, npz, tensorflow-datasets) every source applies the same
stand-in rule: ink = 1, area-downsampled to 28x28, and for every character the first
15 drawers (in file/array order) go to train and the other 5 to test
(1,623 x 15 = 24,345 train / 8,115 test).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tf_lvae.data.arrays import (
    ArchiveError,
    DatasetArrays,
    DatasetError,
    area_downsample,
    as_labels,
    load_npz,
)
from tf_lvae.data.datasets import DATASETS

OMNIGLOT = DATASETS["omniglot"]
IMAGE_SHAPE = OMNIGLOT.image_shape
TRAIN_DRAWERS = 15
CHARDATA_FILE = "chardata.mat"
ZIP_FILES = ("images_background.zip", "images_evaluation.zip")
NPZ_FILES = ("images_background.npz", "images_evaluation.npz")
STAND_IN_NOTE = (
    "stand-in for Burda et al.'s chardata.mat split (24,345 train / 8,070 test): the "
    "105x105 originals area-downsampled to 28x28 (grey = ink fraction), drawers 1-15 of "
    "every character in train, 16-20 in test"
)
_PNG_PATH = re.compile(r"(?:^|/)([^/]+)/character(\d+)/(\d+)_(\d+)\.png$")


def downsample_ink(images: np.ndarray, white: float) -> np.ndarray:
    """Returns the ink fraction of each 28x28 cell, float32 [..., 28, 28] in [0, 1].

    ``images`` [..., H, W] have background value ``white`` (255 for grey PNGs, True for
    the bool npz) and black ink 0; area averaging makes grey = fraction of ink.
    """
    ink = 1.0 - area_downsample(images, IMAGE_SHAPE) / np.float32(white)
    return np.clip(ink, 0.0, 1.0)


def drawer_split(
    images: np.ndarray, characters: np.ndarray, labels: np.ndarray, source: str
) -> DatasetArrays:
    """Returns OMNIGLOT split per character: its first 15 examples train, the rest test.

    ``images`` float32 [N, 28, 28] ink in source order, ``characters`` [N] character ids,
    ``labels`` [N] class labels. Both splits are ordered by character, then source order.
    """
    order = np.argsort(characters, kind="stable")
    ranked = characters[order]
    rank = np.arange(len(order)) - np.searchsorted(ranked, ranked, side="left")
    train, test = order[rank < TRAIN_DRAWERS], order[rank >= TRAIN_DRAWERS]
    return OMNIGLOT.arrays(
        x_train=images[train],
        x_test=images[test],
        y_train=as_labels(labels[train]),
        y_test=as_labels(labels[test]),
        source=f"{source}; {STAND_IN_NOTE}",
    )


def read_chardata(path: Path) -> DatasetArrays:
    """Returns Burda et al.'s 28x28 OMNIGLOT (24,345 / 8,070) from chardata.mat.

    Each column of ``data``/``testdata`` (784, N) is one image stored column-major
    (MATLAB order), as the IWAE code's ``data.T.reshape((-1, 28, 28), order='F')``.
    Labels: the alphabet, argmax of the one-hot ``target``/``testtarget`` (50, N).
    """
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except (OSError, ValueError, NotImplementedError) as err:
        raise DatasetError(
            f"{path}: cannot read as a MATLAB file ({err}); expected Burda et al.'s "
            "chardata.mat (MATLAB v5) with arrays data, testdata, target, testtarget"
        ) from err
    arrays = {}
    for key, target in (("data", "target"), ("testdata", "testtarget")):
        if key not in mat:
            raise DatasetError(f"{path}: no array {key!r}; found {sorted(mat)}")
        data = np.asarray(mat[key], dtype=np.float32)
        if data.ndim != 2 or data.shape[0] != 784 or data.size == 0:
            raise DatasetError(f"{path}: {key!r} must be (784, N), got {data.shape}")
        if not 0.0 <= data.min() <= data.max() <= 1.0:
            raise DatasetError(
                f"{path}: {key!r} values must lie in [0, 1], got {data.min()}..{data.max()}"
            )
        labels = None
        if target in mat:
            onehot = np.asarray(mat[target])
            labels = as_labels(onehot.argmax(axis=0 if onehot.shape[-1] == data.shape[1] else 1))
        arrays[key] = (data.T.reshape((-1, *IMAGE_SHAPE), order="F"), labels)
    return OMNIGLOT.arrays(
        x_train=arrays["data"][0],
        x_test=arrays["testdata"][0],
        y_train=arrays["data"][1],
        y_test=arrays["testdata"][1],
        source=f"Burda et al.'s OMNIGLOT {path} (the paper's 28x28 split)",
    )


def _zip_characters(path: Path) -> dict[tuple[str, int], list[tuple[int, str]]]:
    """Returns {(alphabet, character number): [(drawer, member name), ...]} of a zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as err:
        raise DatasetError(f"{path}: not a readable zip file ({err}); download it again") from err
    characters: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for name in names:
        match = _PNG_PATH.search(name)
        if match:
            alphabet, character, _, drawer = match.groups()
            characters.setdefault((alphabet, int(character)), []).append((int(drawer), name))
    if not characters:
        raise DatasetError(
            f"{path}: no OMNIGLOT images inside; expected Lake et al.'s layout "
            "images_background/<Alphabet>/character<NN>/<id>_<drawer>.png"
        )
    return characters


def _decode_character(archive: zipfile.ZipFile, path: Path, members: list[str]) -> np.ndarray:
    """Returns one character's drawings as float32 ink [drawers, 28, 28]."""
    try:
        grey = np.stack(
            [tf.io.decode_png(archive.read(m), channels=1).numpy()[..., 0] for m in members]
        )
    except (tf.errors.InvalidArgumentError, ValueError, zipfile.BadZipFile) as err:
        raise DatasetError(f"{path}: cannot decode the PNGs {members[0]}... ({err})") from err
    return downsample_ink(grey, white=255.0)


def read_zips(background: Path, evaluation: Path) -> DatasetArrays:
    """Returns OMNIGLOT from Lake et al.'s images_background.zip and images_evaluation.zip.

    Characters are taken alphabet by alphabet (sorted names), then by character number,
    drawers by drawer number; labels are the alphabet's index among all alphabets.
    """
    listings = [(path, _zip_characters(path)) for path in (background, evaluation)]
    alphabets = sorted({alphabet for _, chars in listings for alphabet, _ in chars})
    images, characters, labels = [], [], []
    for path, chars in listings:
        with zipfile.ZipFile(path) as archive:
            for alphabet, number in sorted(chars):
                members = [name for _, name in sorted(chars[alphabet, number])]
                images.append(_decode_character(archive, path, members))
                characters.append(np.full(len(members), len(characters)))
                labels.append(np.full(len(members), alphabets.index(alphabet)))
    return drawer_split(
        np.concatenate(images),
        np.concatenate(characters),
        np.concatenate(labels),
        f"OMNIGLOT PNGs from {background} and {evaluation}",
    )


def _read_npz_images(path: Path) -> np.ndarray:
    """Returns the ``images`` array (characters, drawers, H, W) bool, True = background."""
    try:
        images = load_npz(path).get("images")
    except ArchiveError as err:
        raise DatasetError(str(err)) from err
    if images is None or images.dtype != np.bool_ or images.ndim != 4:
        raise DatasetError(
            f"{path}: expected an array 'images' of bool (characters, drawers, H, W) with "
            "True = background"
        )
    return images


def read_npz(background: Path, evaluation: Path) -> DatasetArrays:
    """Returns OMNIGLOT from images_background.npz and images_evaluation.npz.

    Each file holds ``images`` bool (characters, 20, 105, 105), True = background.
    Labels are the character's index over both files (background first).
    """
    images, characters, offset = [], [], 0
    for path in (background, evaluation):
        stack = _read_npz_images(path)
        images.append(downsample_ink(stack, white=1.0).reshape(-1, *IMAGE_SHAPE))
        characters.append(np.repeat(np.arange(stack.shape[0]) + offset, stack.shape[1]))
        offset += stack.shape[0]
    characters = np.concatenate(characters)
    return drawer_split(
        np.concatenate(images),
        characters,
        characters,
        f"OMNIGLOT npz {background} and {evaluation}",
    )
