"""Datasets for tf_lvae: the facts of every dataset, loading (original files or
tensorflow-datasets), tf.data pipelines, and which images a run uses (`splits`)."""

from tf_lvae.data.arrays import DatasetArrays, DatasetError
from tf_lvae.data.datasets import DATASET_NAMES, DATASETS, DatasetFacts
from tf_lvae.data.pipeline import eval_dataset, seeded_batches, steps_per_epoch, train_dataset
from tf_lvae.data.sources import load_dataset

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "DatasetArrays",
    "DatasetError",
    "DatasetFacts",
    "eval_dataset",
    "load_dataset",
    "seeded_batches",
    "steps_per_epoch",
    "train_dataset",
]
