"""Users' own images in a folder (`--dataset folder:PATH`): PNG, JPEG, BMP or GIF files,
grey or colour, decoded by TensorFlow's `tf.io.decode_image`.

Layout: PATH/train/ and PATH/test/, or one folder of images split by a fixed rule: a
tenth of them (at least one), drawn with seed 0 from the files sorted by path, is the test
set. In each, the images lie directly there or in one subfolder per class; with classes
everywhere, their sorted names are the labels (0, 1, ...), as in
`keras.utils.image_dataset_from_directory`. Files of other types are ignored. Each split
is loaded in an order shuffled with seed 0, as that function shuffles: sorted by path,
the classes would come one after the other, and the first test images are those the
run's records and figures show (the per-unit KL, the reconstructions, the PCA).

Symlinked folders are followed (each real folder read once). With train/ and test/, an
image anywhere else in PATH is refused, not ignored: move it into one of them.

Every image must have the same size, unless `image_size` (H, W) is given: then each is
resized to it by area averaging (`tf.image.resize`, "area"). Grey images load as
[N, H, W], colour ones (any image with colour) as [N, H, W, 3] (alpha dropped, grey files
repeated over the channels); an image stored with three equal channels is grey, as every
GIF is decoded. Binary images (every pixel 0 or 255) get the Bernoulli
likelihood, binarized afresh every epoch if resizing made them grey (as OMNIGLOT); 8-bit
ones get the Gaussian likelihood with uniform dequantization (as small NORB), resized
values rounded to 8 bits.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from tf_lvae.constants import EIGHT_BIT_LEVELS
from tf_lvae.data.arrays import DatasetArrays, DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")  # what tf.io.decode_image reads
TEST_FRACTION = 0.1  # of the images of a folder without train/ and test/
SPLIT_SEED = 0
SHUFFLE_SEED = 0  # of the order of the images of each split
_MAX = 255.0


def image_files(folder: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    """The image files under `folder` (any depth, symlinked folders followed, each real
    folder once), sorted by path; the folders in `skip` are left out."""
    found, seen = [], set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen or Path(root) in skip:
            dirs.clear()
            continue
        seen.add(real)
        found += [Path(root) / n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES]
    return sorted(p for p in found if p.is_file())


def split_files(folder: Path) -> tuple[dict[str, list[Path]], dict[str, Path], str]:
    """The files of each split, {"train": [...], "test": [...]}, the folder of each split,
    and the rule that made them."""
    roots = {split: folder / split for split in ("train", "test")}
    present = [split for split, root in roots.items() if root.is_dir()]
    if present:
        if len(present) == 1:
            raise DatasetError(
                f"{folder}: has {present[0]}/ but no {({'train', 'test'} - set(present)).pop()}/"
                "; give both, or put every image in one folder to have it split"
            )
        loose = image_files(folder, skip=tuple(roots.values()))
        if loose:
            raise DatasetError(
                f"{folder}: {len(loose)} images lie outside train/ and test/ (e.g. "
                f"{loose[0].relative_to(folder)}); move them into one of them, or elsewhere"
            )
        return {split: image_files(root) for split, root in roots.items()}, roots, "train/, test/"
    files = image_files(folder)
    if len(files) == 1:
        raise DatasetError(f"{folder}: one image; a training and a test set need at least two")
    test = np.zeros(len(files), bool)
    count = max(1, round(TEST_FRACTION * len(files)))
    test[np.random.default_rng(SPLIT_SEED).permutation(len(files))[:count]] = True
    split = {
        "train": [f for f, t in zip(files, test, strict=True) if not t],
        "test": [f for f, t in zip(files, test, strict=True) if t],
    }
    rule = f"{count} of {len(files)} images drawn with seed {SPLIT_SEED} as the test set"
    return split, {"train": folder, "test": folder}, rule


def decode(path: Path) -> np.ndarray:
    """The pixels of one image file, uint8 [H, W, channels]: one channel (and alpha) for an
    image whose red, green and blue are equal everywhere (a grey image stored in colour, as
    every GIF is decoded)."""
    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as err:
        reason = err.message.strip().splitlines()[0]
        raise DatasetError(
            f"{path}: cannot be read as an image ({reason}); replace or remove the file"
        ) from None
    pixels = image.numpy()
    if pixels.shape[-1] >= 3 and (pixels[..., 0:1] == pixels[..., 1:3]).all():
        return np.delete(pixels, (1, 2), axis=-1)
    return pixels


def read_image_folder(folder: Path, image_size: tuple[int, int] | None = None) -> DatasetArrays:
    """The images of `folder` as DatasetArrays named folder:<folder> (see the module)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder (--dataset folder:PATH)")
    files, roots, rule = split_files(folder)
    shuffle = np.random.default_rng(SHUFFLE_SEED)
    files = {
        split: [found[i] for i in shuffle.permutation(len(found))] for split, found in files.items()
    }
    for split, found in files.items():
        if not found:
            raise DatasetError(
                f"{roots[split]}: no images ({', '.join(IMAGE_SUFFIXES)} files) found; put "
                f"the {split} images there"
            )
    pixels = {split: [decode(f) for f in found] for split, found in files.items()}
    every = [(f, image) for s in files for f, image in zip(files[s], pixels[s], strict=True)]
    if image_size is None:
        _check_sizes(folder, every)
    colour = any(image.shape[-1] >= 3 for _, image in every)
    binary = all(np.isin(image, (0, 255)).all() for _, image in every)
    x = {split: _array(images, colour, image_size) for split, images in pixels.items()}
    if not binary:  # 8-bit values: resizing's averages rounded to 8 bits
        x = {split: np.round(values) for split, values in x.items()}
    x = {split: values / np.float32(_MAX) for split, values in x.items()}
    classes = {f.relative_to(roots[s]).parts[0] for s in files for f in files[s]}
    labelled = all(f.parent != roots[s] for s in files for f in files[s])
    labels = {
        s: np.array([sorted(classes).index(f.relative_to(roots[s]).parts[0]) for f in files[s]],
                    np.int32) if labelled else None
        for s in files
    }  # fmt: skip
    shape = "x".join(str(d) for d in x["train"].shape[1:])
    resized = f", resized to {image_size[0]}x{image_size[1]}" if image_size else ""
    return DatasetArrays(
        name=f"folder:{folder}",
        x_train=x["train"],
        x_test=x["test"],
        y_train=labels["train"],
        y_test=labels["test"],
        likelihood="bernoulli" if binary else "gaussian",
        binarize=binary and any(((v != 0) & (v != 1)).any() for v in x.values()),
        source=f"{'binary' if binary else '8-bit'} images {shape} in {folder} ({rule}{resized})",
        levels=None if binary else EIGHT_BIT_LEVELS,
        dequantize=not binary,
    )


def _check_sizes(folder: Path, images: list[tuple[Path, np.ndarray]]) -> None:
    """Raises DatasetError naming two files of different sizes, if there are."""
    first, size = images[0][0], images[0][1].shape[:2]
    for path, image in images:
        if image.shape[:2] != size:
            raise DatasetError(
                f"{folder}: images of different sizes ({first.name} is {size[0]}x{size[1]}, "
                f"{path.name} {image.shape[0]}x{image.shape[1]}); give --image-size H,W to "
                "resize them all"
            )


def _array(images: list[np.ndarray], colour: bool, size: tuple[int, int] | None) -> np.ndarray:
    """Images [H, W, channels] as float32 0..255 [N, H, W] (grey) or [N, H, W, 3] (colour),
    resized to `size` by area averaging if given."""
    out = []
    for image in images:
        image = image[..., :3] if image.shape[-1] >= 3 else image[..., :1]
        if colour and image.shape[-1] == 1:
            image = np.repeat(image, 3, axis=-1)
        image = image.astype(np.float32)
        if size is not None:
            image = tf.image.resize(image, size, method="area").numpy()
        out.append(image if colour else image[..., 0])
    return np.stack(out)
