"""A whole run: the compiled steps, the training batches, when a run is finished."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.data import load_dataset
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir
from tf_lvae.runs.train import is_finished, steps_per_execution, training_batches


@pytest.mark.parametrize(
    ("steps", "requested", "expected"),
    [(234, 8, 9), (234, 32, 39), (95, 8, 5), (94, 32, 47), (97, 32, 97), (7, 8, 7), (1, 8, 1)],
)
def test_steps_per_execution_divides_the_epoch(steps, requested, expected):
    assert steps_per_execution(steps, requested) == expected


def test_training_batches_are_stacks_of_k_batches_of_the_epoch():
    data = load_dataset("mnist-sample")  # 5,000 images: 19 batches of 256
    config = TrainingConfig(epochs=2, steps_per_execution=10)
    batches, calls = training_batches(data.x_train, data, config)
    stacks = [b.numpy() for b in batches]
    assert calls == 1 and len(stacks) == 2  # k = 19, the divisor of 19 nearest to 10
    assert stacks[0].shape == (19, 256, 28, 28)
    assert set(np.unique(stacks[0])) == {0.0, 1.0}  # binarized afresh
    assert not np.array_equal(stacks[0], stacks[1])


def test_a_run_is_finished_when_its_last_checkpoint_results_and_intact_model_exist(tmp_path):
    run = RunDir(tmp_path)
    model = ModelConfig(input_shape=(28, 28), latent_dims=(4,), hidden_dims=(8,))
    config = RunConfig("mnist-sample", None, model, TrainingConfig(epochs=2))
    run.write_config(config)
    assert not is_finished(run, config)
    run.new_checkpoint(2, lambda folder: None)
    assert not is_finished(run, config)
    run.write_results({})
    assert not is_finished(run, config)  # no model.keras
    run.model_path.write_bytes(b"PK truncated")
    assert not is_finished(run, config)  # a damaged one
    saved = {"class_name": "HierarchicalVAE", "config": {"config": model.to_dict()}}
    with zipfile.ZipFile(run.model_path, "w") as archive:
        archive.writestr("config.json", json.dumps(saved))
    assert is_finished(run, config)
    saved["config"]["config"]["kind"] = "vae"
    with zipfile.ZipFile(run.model_path, "w") as archive:
        archive.writestr("config.json", json.dumps(saved))
    with pytest.raises(ValueError, match=r"kind 'vae' \(config.json: 'lvae'\)"):
        is_finished(run, config)  # another configuration's model: refused, not rebuilt


def test_only_a_run_that_diverged_is_told_so(tmp_path):
    from tf_lvae.runs.train import training_warning

    run = RunDir(tmp_path)
    model = ModelConfig(input_shape=(28, 28), latent_dims=(4,), hidden_dims=(8,))
    config = RunConfig("mnist-sample", None, model, TrainingConfig(epochs=2, warmup_epochs=1))
    good, poor = {"test": {"log_likelihood": -95.0}}, {"test": {"log_likelihood": -4295.4}}

    def record(first_beta: str) -> None:
        run.write_metric_rows(
            [
                {"epoch": "1", "beta": first_beta, "elbo": "-200"},
                {"epoch": "2", "beta": "1.0", "elbo": "-300"},
            ]
        )

    record("0.0")  # the ELBO fell while beta rose: not divergence
    assert training_warning(config, good, run, 4) is None
    few = training_warning(config, poor, run, 4)
    assert "-4295.40 is below -543.4" in few and "diverged" not in few
    assert "after 8 optimizer steps the model has not learned the data yet" in few
    record("1.0")
    assert training_warning(config, good, run, 4) is None  # 4 steps: too few to tell
    diverged = training_warning(config, poor, run, 100)
    assert "fell from -200.00 in the first epoch after the warm-up to -300.00" in diverged
    assert "training diverged. Lower the learning rate" in diverged
    record("0.0")
    levels = dataclasses.replace(
        config, model=dataclasses.replace(model, likelihood="logistic-mixture")
    )
    eight_bits = -784 * np.log(256)  # -4347.4: a pixel's 256 levels equally likely
    assert training_warning(levels, poor, run, 4) is None  # above the uniform's
    worse = training_warning(levels, {"test": {"log_likelihood": eight_bits - 1}}, run, 4)
    assert "is below -4347.4, that of a model giving each of a pixel's 256 values" in worse


def test_the_optimizer_is_made_before_the_first_step_which_is_traced_once(monkeypatch):
    """compiled_model makes the optimizer variables Keras would make inside the first
    compiled step (where tf.function traces the step twice): the same training to the bit."""
    from tf_lvae.model import HierarchicalVAE
    from tf_lvae.optimizer import make_optimizer
    from tf_lvae.runs.checkpoints import checkpoint_variables
    from tf_lvae.runs.train import compiled_model

    traces = []
    train_step = HierarchicalVAE.train_step
    monkeypatch.setattr(
        HierarchicalVAE,
        "train_step",
        lambda self, data: traces.append(self) or train_step(self, data),
    )
    data = load_dataset("mnist-sample")
    model = ModelConfig(input_shape=(28, 28), latent_dims=(4, 2), hidden_dims=(16, 8))
    config = RunConfig("mnist-sample", None, model, TrainingConfig(epochs=2, jit_compile=False))
    made_here = compiled_model(config)
    by_keras = compiled_model(config)
    by_keras.compile(optimizer=make_optimizer(config.training), jit_compile=False)
    assert made_here.optimizer.built and not by_keras.optimizer.built
    for model in (made_here, by_keras):
        batches, calls = training_batches(data.x_train[:768], data, config.training)
        model.fit(batches, epochs=2, steps_per_epoch=calls, shuffle=False, verbose=0)
    assert [traces.count(made_here), traces.count(by_keras)] == [1, 2]
    pairs = zip(checkpoint_variables(made_here), checkpoint_variables(by_keras), strict=True)
    for a, b in pairs:  # in the same order (paths differ: hierarchical_vae, hierarchical_vae_1)
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
