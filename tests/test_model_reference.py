"""The paper's MLP models compute what they computed when tests/data/mlp_reference.npz was
written (tests/support/mlp_reference.py): the same ELBO terms, IW bound, encodings,
samples, reconstructions and XLA-compiled optimizer steps, to the last bit on the processor
that wrote it, and the same variables in the same checkpoint order. Committed results and
long runs resumed with newer code depend on it."""

import re

import numpy as np
import pytest

from tests.support import mlp_reference


def model_relative(paths: np.ndarray) -> list[str]:
    """Variable paths without the number Keras gives the second and later models and
    optimizers of a process (hierarchical_vae_2, clipped_adam_2), in names and slots."""
    return [re.sub(r"(hierarchical_vae|clipped_adam)_\d+", r"\1", str(p)) for p in paths]


@pytest.fixture(scope="module")
def reference():
    with np.load(mlp_reference.REFERENCE) as saved:
        return dict(saved)


@pytest.mark.parametrize("name", list(mlp_reference.CONFIGS))
def test_the_mlp_models_compute_what_they_computed(name, reference):
    outputs = mlp_reference.outputs(name)
    assert sorted(outputs) == sorted(k for k in reference if k.startswith(f"{name}/"))
    paths = f"{name}/train/paths"
    assert model_relative(outputs.pop(paths)) == model_relative(reference[paths])
    same_processor = str(reference["cpu"]) == mlp_reference.cpu_model()
    for key, value in outputs.items():
        if same_processor:
            np.testing.assert_array_equal(value, reference[key], err_msg=key)
        else:  # another processor's kernels may round differently
            np.testing.assert_allclose(value, reference[key], rtol=1e-4, atol=1e-4, err_msg=key)
