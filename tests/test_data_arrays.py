"""Reading arrays safely: .npz files are checked from their headers before any data."""

import io
import zipfile

import numpy as np
import pytest

from tf_lvae.data.arrays import ArchiveError, load_npz


def npz_claiming(path, shape, dtype="<f8") -> None:
    """An .npz whose one member's header announces `shape` but holds no data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:])


def test_an_archive_announcing_more_than_memory_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npz"
    npz_claiming(path, (10**6, 10**6))
    with pytest.raises(ArchiveError, match=r"would take 7450\.6 GiB, more than"):
        load_npz(path)
    small = tmp_path / "small.npz"
    np.savez_compressed(small, x=np.zeros((1000, 1000)))  # 8 MB from a few kB
    with pytest.raises(ArchiveError, match=r"more than 0\.0 GiB"):
        load_npz(small, max_bytes=1000)
    assert load_npz(small)["x"].shape == (1000, 1000)


def test_pickles_and_garbage_are_refused_with_the_file_named(tmp_path):
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ArchiveError, match=r"objects\.npz.*Python objects"):
        load_npz(pickled)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(ArchiveError, match=r"garbage\.npz: not a readable \.npz") as error:
        load_npz(garbage)
    assert "allow_pickle" not in str(error.value)
