"""tools/run_from_published.py: a published model folder becomes a finished run that Table 1's
fine-tunings start from, with the published weights and a new optimizer."""

import dataclasses
import shutil

import keras
import numpy as np
import pytest

from tests.support.published_reference import ROOT
from tf_lvae import HierarchicalVAE, ModelConfig
from tf_lvae.data import load_dataset
from tf_lvae.evaluation.settings import EvaluationSettings
from tf_lvae.paper.experiments import EXPERIMENTS, RunKey, get_fine_tuning, get_variant
from tf_lvae.paper.runner import check_run, run_config, saved_report
from tf_lvae.paper.settings import ReproduceSettings, run_path
from tf_lvae.runs.checkpoints import final_checkpoint, restore_checkpoint
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import compiled_model, is_finished
from tools.run_from_published import assign_by_path, main, run_from_published

PUBLISHED = ROOT / "docs/results/mnist-2000-epochs/lvae-bn-wu"


def test_a_published_model_becomes_a_finished_run_that_fine_tunings_start_from(tmp_path):
    out = tmp_path / "mnist-2000"
    key = RunKey(get_variant("LVAE+BN+WU"), 5)
    # A model built first: the next one made in this process, the tool's, gets other
    # variable paths (hierarchical_vae_1/...) than the file's.
    model = compiled_model(RunDir(PUBLISHED).read_config())
    run = run_from_published(PUBLISHED, run_path(out, key), data_dir="elsewhere")
    config = run.read_config()
    assert config.data_dir == "elsewhere" and config.training.epochs == 2000
    assert is_finished(run, config)  # training.reproduce skips it

    # Its last checkpoint holds the published model's variables and an optimizer at step 0.
    assert restore_checkpoint(model, final_checkpoint(run)) == 2000
    published = keras.saving.load_model(run.model_path)
    for restored, saved in zip(model.variables, published.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(restored), np.asarray(saved))
    assert int(model.optimizer.iterations.numpy()) == 0
    moments = [v for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path]
    assert moments and not any(np.any(np.asarray(v)) for v in moments)

    # It is the base run table1 expects with block 2's settings: its K = 5000 evaluation is
    # reused, and its fine-tunings point at it.
    settings = ReproduceSettings(iw_samples=5000, eval_every=100, pixel_scale=255)  # its scale
    data = load_dataset("mnist-sample")
    base = run_config(EXPERIMENTS["table1"], key, data, settings, out)
    check_run(run.path, base)
    assert saved_report(run, base, EvaluationSettings(iw_samples=5000, seed=0)) is not None
    tuned = key._replace(fine_tuning=get_fine_tuning("lr"))
    assert run_config(EXPERIMENTS["table1"], tuned, data, settings, out).init_from == str(
        run.path.resolve()
    )


def test_a_folder_that_is_not_published_or_an_existing_output_is_refused(tmp_path, user_error):
    partial = tmp_path / "partial"
    shutil.copytree(PUBLISHED, partial, ignore=shutil.ignore_patterns("results.json"))
    user_error(main, [str(partial), str(tmp_path / "run")], "it lacks results.json")
    (tmp_path / "run").mkdir()
    user_error(main, [str(PUBLISHED), str(tmp_path / "run")], "exists already")
    assert not any((tmp_path / "run").iterdir())


def test_published_weights_are_matched_by_path_never_by_position():
    """A batch norm's gamma and beta have one shape: copied by position, a reordering would
    swap them unnoticed."""
    config = ModelConfig(input_shape=(4, 4), latent_dims=(2,), hidden_dims=(8,))
    source, target = HierarchicalVAE(config, seed=0), HierarchicalVAE(config, seed=1)
    for i, variable in enumerate(source.variables):  # values that tell the variables apart
        variable.assign(np.full(variable.shape, i, variable.dtype))
    assign_by_path(target.variables, list(reversed(source.variables)))
    for got, expected in zip(target.variables, source.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected), err_msg=got.path)
    other = HierarchicalVAE(dataclasses.replace(config, latent_dims=(3,)), seed=0)
    with pytest.raises(ValueError, match="kernel is \\(3, 8\\), not \\(2, 8\\)"):
        assign_by_path(target.variables, other.variables)
