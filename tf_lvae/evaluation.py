"""Compiled evaluation of a model over a whole dataset: the IW log-likelihood and the ELBO.

The images a run is evaluated on come from `split_images` (`test_images` for the test
set), so training, evaluation and analysis all score the same (once-binarized) images.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from tf_lvae.data import DatasetArrays, draw_once, eval_dataset, split_validation
from tf_lvae.model import HierarchicalVAE
from tf_lvae.progress import Progress

TEST_BINARIZATION_SEED = 0
SPLITS = ("test", "train", "validation")
MAX_ROWS = 25_600  # examples x samples per chunk: bounds evaluation memory for any K


def split_examples(
    data: DatasetArrays, split: str, validation: float = 0, seed: int = 0
) -> np.ndarray:
    """The examples of one split of a run's data as loaded (grey values), [M, *image_shape].

    "train" and "validation" are the training set without, or only, the examples a run
    held out with `validation` and `seed` (see `data.split_validation`).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "test":
        return data.x_test
    if split == "validation" and not validation:
        raise ValueError("the run held out no validation set; evaluate the test or train split")
    if not validation:
        return data.x_train
    reduced, x_val, _ = split_validation(data, validation, seed)
    return x_val if split == "validation" else reduced.x_train


def split_images(
    data: DatasetArrays, split: str, validation: float = 0, seed: int = 0
) -> np.ndarray:
    """The examples of one split as evaluated: binarized (or dequantized) once with a fixed
    seed when the data are binarized (dequantized) afresh in training, else as they are
    (docs/method.md §4). [M, *image_shape]."""
    return draw_once(data, split_examples(data, split, validation, seed), TEST_BINARIZATION_SEED)


def test_images(data: DatasetArrays) -> np.ndarray:
    """The test set as evaluated (see `split_images`). [M, *image_shape]."""
    return split_images(data, "test")


def chunk_size_for(num_samples: int, batch_size: int) -> int:
    """Samples per chunk so that one chunk holds at most MAX_ROWS rows."""
    return max(1, min(num_samples, MAX_ROWS // batch_size))


class Evaluator:
    """Scores datasets with one model through XLA-compiled functions (one trace per K)."""

    def __init__(self, model: HierarchicalVAE, batch_size: int = 500, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self.jit_compile = jit_compile
        self._functions: dict[int, tf.types.experimental.GenericFunction] = {}

    def _score_fn(self, num_samples: int):
        if num_samples not in self._functions:
            chunk = chunk_size_for(num_samples, self.batch_size)

            def score(x, seed):
                return self.model.score(x, num_samples, chunk, seed)

            self._functions[num_samples] = tf.function(score, jit_compile=self.jit_compile)
        return self._functions[num_samples]

    def score(
        self, x: np.ndarray, num_samples: int, seed: int = 0, verbose: int = 0
    ) -> dict[str, np.ndarray]:
        """Per-example IW log-likelihood (K = num_samples) and ELBO: {"log_likelihood": [M],
        "elbo": [M]}. verbose=1 shows progress with an ETA."""
        fn = self._score_fn(num_samples)
        progress = Progress(len(x), "example", verbose)
        out: dict[str, list[np.ndarray]] = {"log_likelihood": [], "elbo": []}
        base = tf.constant([seed, 0], tf.int32)
        for i, batch in enumerate(eval_dataset(x, batch_size=self.batch_size)):
            result = fn(batch, tf.random.experimental.stateless_fold_in(base, i))
            for key in out:
                out[key].append(result[key].numpy())
            progress.add(len(batch))
        return {key: np.concatenate(parts) for key, parts in out.items()}


def log_likelihood_report(
    evaluator: Evaluator, x: np.ndarray, num_samples: int, seed: int = 0, verbose: int = 0
) -> dict[str, float]:
    """Dataset means of the IW bound and the ELBO, with K, the example count and the time."""
    start = time.perf_counter()
    scores = evaluator.score(x, num_samples, seed=seed, verbose=verbose)
    return {
        **{key: float(np.mean(value)) for key, value in scores.items()},
        "iw_samples": num_samples,
        "examples": len(x),
        "seconds": round(time.perf_counter() - start, 1),
    }
