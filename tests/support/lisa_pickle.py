"""mnist.pkl.gz as the LISA lab wrote it (Python 2's cPickle, protocol 2), for the tests."""

import gzip
import io
import pickle
import struct
from pathlib import Path

import numpy as np


class Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 wrote its str (BINSTRING), the arrays' data among them."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_bytes(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_bytes


def write_lisa_pickle(path: Path, splits: list[tuple[np.ndarray, np.ndarray]]) -> Path:
    """Writes ((x, y), (x, y), (x, y)): uint8 images [N, 28, 28] as float32 rows byte/256,
    int64 labels; NumPy's reconstructor named as NumPy 1 (numpy.core), as the file has it."""
    pairs = tuple(
        (x.reshape(len(x), -1).astype(np.float32) / np.float32(256), y.astype(np.int64))
        for x, y in splits
    )
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(pairs)
    data = buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    path.write_bytes(gzip.compress(data, compresslevel=1))
    return path
