"""tools/run_from_published.py: a published model folder becomes a finished run that Table 1's
fine-tunings start from, with the published weights and a new optimizer."""

import keras
import numpy as np
import pytest

from tf_lvae.data import load_dataset
from tf_lvae.paper.experiments import EXPERIMENTS, RunKey, get_fine_tuning, get_variant
from tf_lvae.paper.runner import check_run, run_config
from tf_lvae.paper.settings import ReproduceSettings, run_path
from tf_lvae.runs.checkpoints import final_checkpoint, restore_checkpoint
from tf_lvae.runs.train import compiled_model, is_finished
from tools.run_from_published import run_from_published

PUBLISHED = "docs/results/mnist-2000-epochs/lvae-bn-wu"


def test_a_published_model_becomes_a_finished_run_that_fine_tunings_start_from(tmp_path):
    out = tmp_path / "mnist-2000"
    key = RunKey(get_variant("LVAE+BN+WU"), 5)
    run = run_from_published(PUBLISHED, run_path(out, key), data_dir="elsewhere")
    config = run.read_config()
    assert config.data_dir == "elsewhere" and config.training.epochs == 2000
    assert is_finished(run, config)  # training.reproduce skips it

    # Its last checkpoint holds the published model's variables and an optimizer at step 0.
    model = compiled_model(config)
    assert restore_checkpoint(model, final_checkpoint(run)) == 2000
    published = keras.saving.load_model(run.model_path)
    for restored, saved in zip(model.variables, published.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(restored), np.asarray(saved))
    assert int(model.optimizer.iterations.numpy()) == 0
    moments = [v for v in model.optimizer.variables if "momentum" in v.path or "velocity" in v.path]
    assert moments and not any(np.any(np.asarray(v)) for v in moments)

    # It is the base run table1 expects with the block-2 command's settings, and its
    # fine-tunings point at it.
    settings = ReproduceSettings(iw_samples=5000, eval_every=100)
    data = load_dataset("mnist-sample")
    check_run(run.path, run_config(EXPERIMENTS["table1"], key, data, settings, out))
    tuned = key._replace(fine_tuning=get_fine_tuning("lr"))
    assert run_config(EXPERIMENTS["table1"], tuned, data, settings, out).init_from == str(
        run.path.resolve()
    )

    with pytest.raises(ValueError, match="exists already"):
        run_from_published(PUBLISHED, run.path)
