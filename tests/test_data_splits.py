"""Which images a run uses: the run's data, its draws of the test set."""

import dataclasses

import numpy as np

from tf_lvae import evaluation
from tf_lvae.config import preset
from tf_lvae.data import DatasetArrays
from tf_lvae.run_dir import RunConfig
from tf_lvae.trainer import load_run_data


def eight_bit(binarize: bool = False) -> DatasetArrays:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 32, 32)).astype(np.float32) / 255
    return DatasetArrays("grey", x, x[:10], None, None, "gaussian", binarize, "test", levels=256)


def run_config(likelihood: str = "gaussian", **changes) -> RunConfig:
    model = dataclasses.replace(preset("norb", 1).model, likelihood=likelihood)
    return RunConfig("npz:grey.npz", None, model, preset("norb", 1).training, **changes)


def test_a_gaussian_run_on_8_bit_images_is_dequantized_in_training_and_evaluation():
    data = load_run_data(run_config(), eight_bit())
    assert data.dequantize and data.dequantize_levels == 256
    x = evaluation.test_images(data)
    np.testing.assert_array_equal(np.floor(x * 256), np.round(data.x_test * 255))
    assert np.mean(x != data.x_test) > 0.99
    np.testing.assert_array_equal(x, evaluation.test_images(data))  # one fixed draw


def test_dequantization_is_off_by_the_flag_for_bernoulli_runs_and_old_configs():
    assert not load_run_data(run_config(dequantize=False), eight_bit()).dequantize
    assert not load_run_data(run_config("bernoulli"), eight_bit()).dequantize
    bernoulli = load_run_data(run_config("bernoulli"), eight_bit(binarize=True))
    assert bernoulli.binarize and not bernoulli.dequantize
    gaussian = load_run_data(run_config(), eight_bit(binarize=True))  # grey npz, Gaussian
    assert gaussian.dequantize and not gaussian.binarize
    old = {k: v for k, v in run_config().to_dict().items() if k != "dequantize"}
    assert not RunConfig.from_dict(old).dequantize  # trained on the stored values
    continuous = dataclasses.replace(eight_bit(), levels=None)
    assert not load_run_data(run_config(), continuous).dequantize
    np.testing.assert_array_equal(evaluation.test_images(load_run_data(run_config(), continuous)),
                                  continuous.x_test)  # fmt: skip
