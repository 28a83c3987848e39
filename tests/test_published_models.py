"""The models committed under docs/results compute what they computed when published: a
change to the model's math that would silently move every published number fails here."""

import json

import keras
import numpy as np
import pytest

from tests.support.published_reference import (
    PUBLISHED,
    mean_log_likelihood,
    reference_images,
    reference_path,
)
from tf_lvae.config import LIKELIHOODS, ModelConfig
from tf_lvae.runs.checkpoints import model_file_sha256
from tf_lvae.runs.report import digest


def test_the_2000_epoch_mnist_models_are_published():
    names = {path.parent.name for path in PUBLISHED if "mnist-2000-epochs" in str(path)}
    assert {"vae-bn-wu", "lvae-bn-wu"} <= names


def test_the_reference_images_are_what_each_likelihood_takes():
    """Binary images for a Bernoulli model, the 8-bit levels for the logistic mixture, and
    those levels dequantized, (k + u) / 256, for a Gaussian one."""
    images = {name: reference_images(ModelConfig(likelihood=name)) for name in LIKELIHOODS}
    assert {x.shape for x in images.values()} == {(200, 28, 28)}
    assert set(np.unique(images["bernoulli"])) == {0.0, 1.0}
    levels = images["logistic-mixture"] * 255
    assert np.array_equal(levels, np.round(levels)) and len(np.unique(levels)) > 2
    gaussian = images["gaussian"] * 256
    assert np.array_equal(np.floor(gaussian), np.round(levels))
    assert not np.array_equal(gaussian, np.floor(gaussian))


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_a_published_model_scores_its_reference(path):
    reference = json.loads(reference_path(path).read_text())
    assert mean_log_likelihood(path) == pytest.approx(reference["log_likelihood"], abs=0.01)


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_a_published_models_evaluations_scored_this_model_file(path):
    """Every evaluation published beside a model names it: by the sha256 of model.keras, or,
    in reports made before they recorded it, by the sha256 of its weights as scored (those
    reports kept the batch-norm statistics stored with the model)."""
    reports = sorted(path.parent.glob("evaluation-*.json"))
    assert reports, f"{path.parent} publishes a model without its evaluation"
    file_sha256 = model_file_sha256(path)
    weights_sha256 = digest(v.numpy() for v in keras.saving.load_model(path).variables)
    for report_path in reports:
        report = json.loads(report_path.read_text())
        if "model_sha256" in report:
            assert report["model_sha256"] == file_sha256, report_path.name
        else:
            assert report.get("weights_sha256") == weights_sha256, report_path.name
