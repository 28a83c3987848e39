"""Datasets for tf_lvae: loading (files or tensorflow-datasets) and tf.data pipelines."""

from tf_lvae.data.arrays import DatasetArrays, DatasetError
from tf_lvae.data.pipeline import (
    binarize_once,
    dequantize_once,
    draw_once,
    eval_dataset,
    split_validation,
    steps_per_epoch,
    train_dataset,
)
from tf_lvae.data.sources import DATASET_NAMES, load_dataset

__all__ = [
    "DATASET_NAMES",
    "DatasetArrays",
    "DatasetError",
    "binarize_once",
    "dequantize_once",
    "draw_once",
    "eval_dataset",
    "load_dataset",
    "split_validation",
    "steps_per_epoch",
    "train_dataset",
]
