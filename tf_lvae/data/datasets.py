"""The facts of every named dataset, in one table: image shape, likelihood, how its images
are drawn, the paper's settings it trains with, and its tensorflow-datasets name.

Every reader builds its DatasetArrays from these facts (`DatasetFacts.arrays`), so a
dataset's facts are stated once; `npz:PATH` files and `folder:PATH` images, whose facts
come from the files, train with the MNIST settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tf_lvae.constants import EIGHT_BIT_LEVELS
from tf_lvae.data.arrays import DatasetArrays

NPZ_PREFIX = "npz:"
FOLDER_PREFIX = "folder:"


@dataclass(frozen=True)
class DatasetFacts:
    """One named dataset.

    Attributes:
      name: the name given to `load_dataset` and `--dataset`.
      image_shape: the shape of one example as loaded.
      likelihood: "bernoulli" or "gaussian" (the paper's for this dataset).
      binarize: binarized afresh every epoch from its grey values (and once for evaluation).
      levels: the values are integers k / (levels - 1) (8-bit: 256), or None.
      preset: the paper's settings it trains with (`tf_lvae.config.preset`).
      tfds_name: its name in tensorflow-datasets, or None (not there).
    """

    name: str
    image_shape: tuple[int, ...]
    likelihood: str
    binarize: bool
    levels: int | None
    preset: str
    tfds_name: str | None

    def arrays(
        self,
        x_train: np.ndarray,
        x_test: np.ndarray,
        y_train: np.ndarray | None,
        y_test: np.ndarray | None,
        source: str,
    ) -> DatasetArrays:
        """DatasetArrays of this dataset; dequantized when its likelihood is Gaussian on
        integer values (see `DatasetArrays`)."""
        return DatasetArrays(
            name=self.name,
            x_train=x_train,
            x_test=x_test,
            y_train=y_train,
            y_test=y_test,
            likelihood=self.likelihood,
            binarize=self.binarize,
            source=source,
            levels=self.levels,
            dequantize=self.likelihood == "gaussian" and self.levels is not None,
        )


DATASETS = {
    facts.name: facts
    for facts in (
        DatasetFacts("mnist", (28, 28), "bernoulli", True, EIGHT_BIT_LEVELS, "mnist", "mnist"),
        DatasetFacts(
            "binarized_mnist", (28, 28), "bernoulli", False, None, "mnist", "binarized_mnist"
        ),
        DatasetFacts("omniglot", (28, 28), "bernoulli", True, None, "omniglot", "omniglot"),
        DatasetFacts("norb", (32, 32), "gaussian", False, EIGHT_BIT_LEVELS, "norb", "smallnorb"),
        DatasetFacts("mnist-sample", (28, 28), "bernoulli", True, EIGHT_BIT_LEVELS, "mnist", None),
    )
}
DATASET_NAMES = (*DATASETS, f"{NPZ_PREFIX}PATH", f"{FOLDER_PREFIX}PATH")


def preset_for(dataset: str) -> str:
    """The paper's settings a dataset trains with: its own, or MNIST's for `npz:` files and
    `folder:` images."""
    facts = DATASETS.get(dataset)
    return facts.preset if facts is not None else "mnist"


def dataset_slug(dataset: str) -> str:
    """The dataset's name in folder names: "npz:data/x.npz" -> "npz-data_x.npz"."""
    return dataset.replace(":", "-").replace("/", "_")
