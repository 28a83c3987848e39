"""The reference number of a published model (docs/results/*/*/model.keras): the IW bound
with K = 100 on the first 200 test images of the bundled MNIST sample, as the project
evaluates them for the model's likelihood (binarized, dequantized or the 8-bit levels, drawn
once with a fixed seed), seed 0, without XLA (its compilation would
take longer than the bound; XLA draws other samples, so the setting is part of the pin).
Written next to the model as reference.json by `python -m tests.support.published_reference
MODEL.keras`, checked by tests/test_published_models.py."""

import json
import sys
from pathlib import Path

import keras
import numpy as np

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.data.splits import load_run_data, test_images
from tf_lvae.evaluation.scoring import Evaluator
from tf_lvae.run_config import RunConfig

EXAMPLES, IW_SAMPLES, SEED = 200, 100, 0
ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = sorted((ROOT / "docs" / "results").glob("*/*/model.keras"))


def reference_path(model_path: Path) -> Path:
    return model_path.with_name("reference.json")


def reference_images(config: ModelConfig) -> np.ndarray:
    """The first EXAMPLES mnist-sample test images as a model with this config takes them
    (`load_run_data`: binarized from byte / 255, dequantized or the levels), [200, 28, 28]."""
    run = RunConfig("mnist-sample", None, config, TrainingConfig())
    return test_images(load_run_data(run))[:EXAMPLES]


def mean_log_likelihood(model_path: Path) -> float:
    """The model's mean IW bound (nats) on the reference images."""
    model = keras.saving.load_model(model_path)
    x = reference_images(model.model_config)
    return float(
        np.mean(
            Evaluator(model, jit_compile=False).score(x, IW_SAMPLES, seed=SEED)["log_likelihood"]
        )
    )


if __name__ == "__main__":
    for path in map(Path, sys.argv[1:]):
        reference = {
            "what": f"IW bound, K = {IW_SAMPLES}, first {EXAMPLES} mnist-sample test images, "
            f"seed {SEED}, no XLA (tests/support/published_reference.py)",
            "log_likelihood": mean_log_likelihood(path),
        }
        reference_path(path).write_text(json.dumps(reference, indent=2) + "\n")
        print(reference_path(path), reference["log_likelihood"])
