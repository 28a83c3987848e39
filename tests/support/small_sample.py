"""A slice of the bundled MNIST sample as an .npz dataset, for runs whose size is beside the
point: fewer steps an epoch, the same code path."""

from pathlib import Path

import numpy as np

from tf_lvae.data import load_dataset


def small_sample(path: Path, train: int = 512, test: int = 100) -> str:
    """Writes the sample's first `train` training and `test` test images to `path` (.npz);
    returns the --dataset value that reads them ("npz:PATH")."""
    sample = load_dataset("mnist-sample")
    np.savez(path, x_train=sample.x_train[:train], x_test=sample.x_test[:test])
    return f"npz:{path}"
