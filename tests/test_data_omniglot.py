"""OMNIGLOT readers: Lake's zips, the npz layout, Burda's chardata.mat, the split rule."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from scipy.io import savemat

from tf_lvae.data import DatasetError
from tf_lvae.data.omniglot import drawer_split, read_chardata, read_npz, read_zips

DRAWERS = 20
# (zip/npz stem, [(alphabet, number of characters)]); characters numbered across both files
LAYOUT = {
    "images_background": [("Latin", 2), ("Greek", 1)],
    "images_evaluation": [("Atlantean", 1)],
}


def drawing(drawer: int) -> np.ndarray:
    """Returns a 105x105 bool background mask (True = white) whose first ``drawer`` rows are ink."""
    background = np.ones((105, 105), dtype=bool)
    background[:drawer] = False
    return background


def write_zips(folder: Path) -> list[Path]:
    """Writes Lake-style zips: <stem>/<Alphabet>/character<NN>/<charid>_<drawer>.png."""
    paths, char_id = [], 0
    order = np.random.default_rng(0).permutation(DRAWERS) + 1  # members written out of order
    for stem, alphabets in LAYOUT.items():
        path = folder / f"{stem}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for alphabet, count in alphabets:
                for number in range(1, count + 1):
                    char_id += 1
                    for drawer in order:
                        grey = np.where(drawing(drawer), 255, 0).astype(np.uint8)[..., None]
                        png = tf.io.encode_png(grey).numpy()
                        name = f"{stem}/{alphabet}/character{number:02d}/{char_id:04d}_{drawer:02d}"
                        archive.writestr(f"{name}.png", png)
        paths.append(path)
    return paths


def write_npz(folder: Path) -> list[Path]:
    """Writes the npz layout: images bool (characters, 20, 105, 105), True = background."""
    paths = []
    for stem, alphabets in LAYOUT.items():
        chars = sum(count for _, count in alphabets)
        images = np.stack([np.stack([drawing(d) for d in range(1, DRAWERS + 1)])] * chars)
        labels = np.repeat(np.arange(chars)[:, None], DRAWERS, axis=1)
        paths.append(folder / f"{stem}.npz")
        np.savez_compressed(paths[-1], images=images, labels=labels)
    return paths


def drawer_of(images: np.ndarray) -> np.ndarray:
    """Returns the drawer number encoded in each image's ink fraction (rows of ink / 105)."""
    return np.rint(images.reshape(len(images), -1).mean(axis=1) * 105).astype(int)


def check_split(data, n_chars: int) -> None:
    assert data.x_train.shape == (n_chars * 15, 28, 28) and data.x_test.shape == (
        n_chars * 5,
        28,
        28,
    )
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    np.testing.assert_array_equal(drawer_of(data.x_train), np.tile(np.arange(1, 16), n_chars))
    np.testing.assert_array_equal(drawer_of(data.x_test), np.tile(np.arange(16, 21), n_chars))
    assert data.binarize and data.likelihood == "bernoulli" and "stand-in" in data.source


def test_zips(tmp_path):
    data = read_zips(*write_zips(tmp_path))
    check_split(data, n_chars=4)
    # alphabets sorted over both zips: Atlantean 0, Greek 1, Latin 2; characters Greek, Latin x2
    np.testing.assert_array_equal(data.y_train[::15], [1, 2, 2, 0])
    np.testing.assert_array_equal(data.y_test[::5], [1, 2, 2, 0])


def test_npz_layout_matches_zips(tmp_path):
    from_npz = read_npz(*write_npz(tmp_path))
    check_split(from_npz, n_chars=4)
    np.testing.assert_array_equal(from_npz.y_train[::15], [0, 1, 2, 3])
    from_zips = read_zips(*write_zips(tmp_path))
    np.testing.assert_allclose(from_npz.x_train, from_zips.x_train, atol=1e-6)


def test_ink_is_area_fraction(tmp_path):
    """An ink block of 4x4 pixels at the top-left: 28x28 cell (0, 0) covers 3.75x3.75 px."""
    background = np.ones((1, 20, 105, 105), dtype=bool)
    background[:, :, :4, :4] = False
    np.savez(tmp_path / "a.npz", images=background)
    data = read_npz(tmp_path / "a.npz", tmp_path / "a.npz")
    cell = data.x_train[0]
    np.testing.assert_allclose(cell[0, 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(cell[0, 1], 0.25 / 3.75, atol=1e-6)
    np.testing.assert_allclose(cell[1, 1], (0.25 / 3.75) ** 2, atol=1e-6)
    np.testing.assert_allclose(cell.sum() * (105 / 28) ** 2, 16, rtol=1e-5)


def test_drawer_split_uses_source_order_per_character():
    characters = np.array([2, 0, 2, 0] * 10)  # 20 drawings of characters 0 and 2, interleaved
    images = np.arange(40, dtype=np.float32)[:, None, None] * np.ones((40, 28, 28), np.float32)
    data = drawer_split(images, characters, characters * 10, "test")
    first = images[:, 0, 0]
    np.testing.assert_array_equal(data.x_train[:, 0, 0], np.r_[first[1::2][:15], first[0::2][:15]])
    np.testing.assert_array_equal(data.x_test[:, 0, 0], np.r_[first[1::2][15:], first[0::2][15:]])
    np.testing.assert_array_equal(data.y_test, [0] * 5 + [20] * 5)


def test_chardata_column_major(tmp_path):
    rng = np.random.default_rng(0)
    n_train, n_test = 6, 3
    images = {k: rng.random((n, 28, 28)) for k, n in (("data", n_train), ("testdata", n_test))}
    mat = {}
    for key, target in (("data", "target"), ("testdata", "testtarget")):
        n = len(images[key])
        columns = np.zeros((784, n))
        for row in range(28):
            for col in range(28):  # MATLAB column-major: pixel (row, col) at row + 28 * col
                columns[row + 28 * col] = images[key][:, row, col]
        mat[key] = columns
        mat[target] = np.eye(50)[:, np.arange(n) * 7 % 50]
    savemat(tmp_path / "chardata.mat", mat)
    data = read_chardata(tmp_path / "chardata.mat")
    assert data.x_train.shape == (n_train, 28, 28) and data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train, images["data"], atol=1e-6)
    np.testing.assert_allclose(data.x_test, images["testdata"], atol=1e-6)
    np.testing.assert_array_equal(data.y_train, np.arange(n_train) * 7 % 50)
    assert "Burda" in data.source and data.binarize


def test_chardata_errors(tmp_path):
    savemat(tmp_path / "chardata.mat", {"data": np.zeros((784, 2))})
    with pytest.raises(DatasetError, match=r"chardata.mat.*testdata"):
        read_chardata(tmp_path / "chardata.mat")
    (tmp_path / "chardata.mat").write_bytes(b"not a mat file" * 20)
    with pytest.raises(DatasetError, match=r"chardata.mat"):
        read_chardata(tmp_path / "chardata.mat")


def test_corrupt_zip_and_png(tmp_path):
    background, evaluation = write_zips(tmp_path)
    evaluation.write_bytes(evaluation.read_bytes()[:100])
    with pytest.raises(DatasetError, match=r"images_evaluation.zip"):
        read_zips(background, evaluation)
    with zipfile.ZipFile(evaluation, "w") as archive:
        archive.writestr("images_evaluation/X/character01/0001_01.png", b"not a png")
    with pytest.raises(DatasetError, match=r"images_evaluation.zip.*0001_01.png"):
        read_zips(background, evaluation)


def test_npz_without_images(tmp_path):
    np.savez(tmp_path / "images_background.npz", pictures=np.zeros((1, 20, 5, 5), bool))
    with pytest.raises(DatasetError, match=r"images_background.npz.*'images'"):
        read_npz(tmp_path / "images_background.npz", tmp_path / "images_background.npz")


def test_real_omniglot_npz(shared_data):
    folder = shared_data / "omniglot"
    data = read_npz(folder / "images_background.npz", folder / "images_evaluation.npz")
    assert data.x_train.shape == (24_345, 28, 28) and data.x_test.shape == (8_115, 28, 28)
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    assert 0.03 < data.x_train.mean() < 0.2 and 0.03 < data.x_test.mean() < 0.2
    assert data.y_train.max() == data.y_test.max() == 1622
