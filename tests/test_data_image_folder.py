"""Users' folders of images: layouts, grey and colour, binary and 8-bit, resizing, and
one-line errors naming what is wrong."""

from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from tf_lvae.data import DatasetError, load_dataset
from tf_lvae.data.image_folder import read_image_folder


def write(path: Path, pixels: np.ndarray) -> None:
    """Writes uint8 pixels [H, W, C] as PNG, or JPEG for a .jpg name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encode = tf.io.encode_jpeg if path.suffix == ".jpg" else tf.io.encode_png
    tf.io.write_file(str(path), encode(pixels.astype(np.uint8)))


def grey(seed: int, shape=(5, 4)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 1))


def binary(seed: int, shape=(5, 4)) -> np.ndarray:
    return 255 * (np.random.default_rng(seed).random((*shape, 1)) < 0.4)


def test_train_and_test_folders_with_classes_of_8_bit_grey_images(tmp_path):
    expected = {}
    for split, count in (("train", 4), ("test", 2)):
        for i in range(count):
            pixels = grey(10 * (split == "test") + i)
            write(tmp_path / split / ("cats" if i % 2 else "dogs") / f"{i}.png", pixels)
            expected.setdefault(split, []).append((i % 2, pixels[..., 0]))
    (tmp_path / "train" / "notes.txt").write_text("not an image: ignored")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.name == f"folder:{tmp_path}" and data.image_shape == (5, 4)
    assert (data.likelihood, data.levels, data.dequantize, data.binarize) == (
        "gaussian",
        256,
        True,
        False,
    )
    for split in ("train", "test"):  # labels: cats/ 0, dogs/ 1 (i % 2 == 1: cats)
        pairs = {p.tobytes(): 1 - c for c, p in expected[split]}
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        assert len(x) == len(pairs)
        for image, label in zip(x, y, strict=True):  # each image with its own label
            pixels = np.round(image * 255).astype(expected[split][0][1].dtype)
            assert pairs[pixels.tobytes()] == label
        np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)


def test_each_split_is_shuffled_with_a_fixed_seed_so_that_classes_mix(tmp_path):
    for i in range(20):
        write(tmp_path / "train" / ("a" if i < 10 else "b") / f"{i:02d}.png", grey(i))
        write(tmp_path / "test" / ("a" if i < 10 else "b") / f"{i:02d}.png", grey(100 + i))
    data = read_image_folder(tmp_path)
    assert 0 < data.y_test[:10].sum() < 10  # sorted by path, the first ten would be class a
    again = read_image_folder(tmp_path)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_one_folder_of_binary_images_is_split_by_the_stated_rule(tmp_path):
    for i in range(20):
        write(tmp_path / f"{i:02d}.png", binary(i))
    data = read_image_folder(tmp_path)
    assert (len(data.x_train), len(data.x_test)) == (18, 2)  # a tenth, drawn with seed 0
    assert "2 of 20 images drawn with seed 0 as the test set" in data.source
    assert data.likelihood == "bernoulli" and not data.binarize and data.levels is None
    assert set(np.unique(data.x_train)) == {0.0, 1.0} and data.y_train is None
    again = read_image_folder(tmp_path)
    np.testing.assert_array_equal(again.x_test, data.x_test)
    # resized binary images are grey (the area's ink), binarized afresh as OMNIGLOT
    resized = read_image_folder(tmp_path, image_size=(3, 2))
    assert resized.image_shape == (3, 2) and resized.binarize
    assert resized.likelihood == "bernoulli"


def test_colour_images_load_with_three_channels_and_resize_to_8_bits(tmp_path):
    rng = np.random.default_rng(0)
    write(tmp_path / "train" / "a.jpg", rng.integers(0, 256, (8, 6, 3)))
    write(tmp_path / "train" / "b.png", grey(1, (4, 4)))  # grey, another size
    write(tmp_path / "test" / "c.png", rng.integers(0, 256, (8, 6, 4)))  # with alpha
    data = read_image_folder(tmp_path, image_size=(4, 3))
    assert data.image_shape == (4, 3, 3) and data.likelihood == "gaussian"
    np.testing.assert_allclose(data.x_train * 255, np.round(data.x_train * 255), atol=1e-4)
    b = data.x_train[1]  # the grey image repeated over the channels
    np.testing.assert_array_equal(b[..., 0], b[..., 2])
    assert "resized to 4x3" in data.source


@pytest.mark.parametrize(
    ("files", "size", "message"),
    [
        ({}, None, "no images (.png, .jpg, .jpeg, .bmp, .gif files) found"),
        ({"train/a.png": grey(0)}, None, "has train/ but no test/"),
        ({"train/a.png": grey(0), "test/b.png": grey(1, (3, 3))}, None, "different sizes "
         "(a.png is 5x4, b.png 3x3); give --image-size H,W"),
        ({"a.png": grey(0), "b.png": b"not an image"}, None, "b.png: cannot be read as an image"),
        ({"a.png": grey(0)}, None, "one image"),
        ({"train/a.png": grey(0), "test/b.png": grey(1), "c.png": grey(2)}, None,
         "1 images lie outside train/ and test/ (e.g. c.png); move them"),
    ],
)  # fmt: skip
def test_bad_folders_are_named_in_one_line(tmp_path, files, size, message):
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            write(tmp_path / name, content)
    with pytest.raises(DatasetError) as error:
        read_image_folder(tmp_path, size)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_missing_folder_and_an_image_size_for_other_data(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(DatasetError, match="applies to folder: datasets"):
        load_dataset("mnist-sample", image_size=(14, 14))


def test_a_grey_gif_stays_grey_and_symlinked_class_folders_are_read_once(tmp_path):
    root = tmp_path / "images"
    for i in range(4):
        write(root / "train" / "zero" / f"{i}.png", grey(i))
    write(root / "test" / "zero" / "t.png", grey(9))
    gif = PIL.Image.fromarray(grey(7)[..., 0].astype(np.uint8), mode="L")
    gif.save(root / "train" / "zero" / "g.gif")  # decoded as three equal channels
    elsewhere = tmp_path / "ones"
    for i in range(3):
        write(elsewhere / f"{i}.png", grey(20 + i))
    (root / "train" / "one").symlink_to(elsewhere)  # a class folder kept elsewhere
    (elsewhere / "loop").symlink_to(elsewhere)  # a cycle: followed once
    data = read_image_folder(root)
    assert data.image_shape == (5, 4)  # grey, not RGB
    assert len(data.x_train) == 8 and sorted(set(data.y_train.tolist())) == [0, 1]
    assert data.y_train.tolist().count(1) == 5  # "zero" (4 PNGs and the GIF); "one" is 0
