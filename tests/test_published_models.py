"""The models committed under docs/results compute what they computed when published: a
change to the model's math that would silently move every published number fails here."""

import json

import pytest

from tests.support.published_reference import PUBLISHED, mean_log_likelihood, reference_path


def test_the_2000_epoch_mnist_models_are_published():
    names = {path.parent.name for path in PUBLISHED if "mnist-2000-epochs" in str(path)}
    assert {"vae-bn-wu", "lvae-bn-wu"} <= names


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_a_published_model_scores_its_reference(path):
    reference = json.loads(reference_path(path).read_text())
    assert mean_log_likelihood(path) == pytest.approx(reference["log_likelihood"], abs=0.01)
