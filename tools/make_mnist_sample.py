"""Writes tf_lvae/data/samples/mnist_sample.npz: the first 5,000 training and 1,000 test
MNIST images (uint8) with labels, read from the official IDX files.

Usage (from the repository root): PYTHONPATH=. python tools/make_mnist_sample.py MNIST_DIR
[--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tf_lvae.data.mnist_idx import find_idx_files, read_idx

TRAIN_COUNT, TEST_COUNT = 5_000, 1_000
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tf_lvae/data/samples/mnist_sample.npz"


def make_sample(mnist_dir: Path, out: Path) -> None:
    """Writes x_train/y_train (first 5,000) and x_test/y_test (first 1,000) uint8 to ``out``."""
    files = find_idx_files(mnist_dir)
    missing = [key for key, path in files.items() if path is None]
    if missing:
        raise SystemExit(f"{mnist_dir}: MNIST IDX files missing for {', '.join(missing)}")
    counts = {"train": TRAIN_COUNT, "test": TEST_COUNT}
    arrays = {key: read_idx(path)[: counts[key[2:]]] for key, path in files.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out}: " + ", ".join(f"{k} {v.dtype} {v.shape}" for k, v in arrays.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist_dir", type=Path, help="folder with the four MNIST IDX files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    make_sample(args.mnist_dir, args.out)


if __name__ == "__main__":
    main()
