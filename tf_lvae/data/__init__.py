"""Datasets for tf_lvae: the facts of every dataset, loading (original files, folders of
images or tensorflow-datasets), tf.data pipelines, and which images a run uses (`splits`).

The names below are imported at their first use (`tf_lvae.lazy`).
"""

from tf_lvae.lazy import lazy_exports

_HOMES = {
    "DatasetArrays": "arrays",
    "DatasetError": "arrays",
    "DATASET_NAMES": "datasets",
    "DATASETS": "datasets",
    "DatasetFacts": "datasets",
    "eval_dataset": "pipeline",
    "seeded_batches": "pipeline",
    "steps_per_epoch": "pipeline",
    "train_dataset": "pipeline",
    "load_dataset": "sources",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
