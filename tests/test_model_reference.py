"""The paper's MLP models and the convolutional ones compute what they computed when
tests/data/mlp_reference.npz and conv_reference.npz were written
(tests/support/model_reference.py): the same ELBO terms, IW bound, encodings, samples,
reconstructions and XLA-compiled optimizer steps, to the last bit on the processor and
with the TensorFlow thread count that wrote them (the convolutions sum in another order
with another), and the same variables in the same checkpoint order. Committed results and
long runs resumed with newer code depend on it."""

import re

import numpy as np
import pytest

from tests.support import model_reference


def model_relative(paths: np.ndarray) -> list[str]:
    """Variable paths without the number Keras gives the second and later models and
    optimizers of a process (hierarchical_vae_2, clipped_adam_2), in names and slots."""
    return [re.sub(r"(hierarchical_vae|clipped_adam)_\d+", r"\1", str(p)) for p in paths]


@pytest.fixture(scope="module")
def references() -> dict[str, dict[str, np.ndarray]]:
    found = {}
    for family, (path, _) in model_reference.REFERENCES.items():
        with np.load(path) as saved:
            found[family] = dict(saved)
    return found


@pytest.mark.parametrize(
    "family, name",
    [(f, n) for f, (_, configs) in model_reference.REFERENCES.items() for n in configs],
)
def test_the_models_compute_what_they_computed(family, name, references):
    reference = references[family]
    outputs = model_reference.outputs(name)
    assert sorted(outputs) == sorted(k for k in reference if k.startswith(f"{name}/"))
    paths = f"{name}/train/paths"
    assert model_relative(outputs.pop(paths)) == model_relative(reference[paths])
    threads = reference.get("threads")  # None: not recorded (the MLP reference)
    same_setup = str(reference["cpu"]) == model_reference.cpu_model() and (
        threads is None or int(threads) == model_reference.intra_op_threads()
    )
    for key, value in outputs.items():
        if same_setup:
            np.testing.assert_array_equal(value, reference[key], err_msg=key)
        else:  # another processor's kernels, or another thread count, may round differently
            np.testing.assert_allclose(value, reference[key], rtol=1e-4, atol=1e-4, err_msg=key)
