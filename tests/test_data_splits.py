"""Which images a run uses: the run's data, its draws of the test set."""

import dataclasses

import numpy as np
import pytest

from tf_lvae.data import DatasetArrays, splits
from tf_lvae.data.splits import binarize_once, dequantize_once, load_run_data, split_validation
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig


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
    x = splits.test_images(data)
    np.testing.assert_array_equal(np.floor(x * 256), np.round(data.x_test * 255))
    assert np.mean(x != data.x_test) > 0.99
    np.testing.assert_array_equal(x, splits.test_images(data))  # one fixed draw


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
    np.testing.assert_array_equal(splits.test_images(load_run_data(run_config(), continuous)),
                                  continuous.x_test)  # fmt: skip


def test_binarize_once_is_deterministic():
    x = np.random.default_rng(0).random((200, 9)).astype(np.float32)
    first, second = binarize_once(x, seed=4), binarize_once(x, seed=4)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and set(np.unique(first)) == {0.0, 1.0}
    assert abs(first.mean() - x.mean()) < 0.03
    assert not np.array_equal(first, binarize_once(x, seed=5))


def test_split_validation():
    x = np.arange(20, dtype=np.float32)[:, None] * np.ones((20, 2), np.float32)
    data = DatasetArrays(
        "toy", x, x[:3], np.arange(20, dtype=np.int32), None, "bernoulli", True, "s"
    )
    reduced, x_val, y_val = split_validation(data, 0.25, seed=1)
    assert len(x_val) == 5 and len(reduced.x_train) == 15
    np.testing.assert_array_equal(x_val[:, 0], y_val)
    np.testing.assert_array_equal(reduced.x_train[:, 0], reduced.y_train)
    assert sorted(np.r_[y_val, reduced.y_train]) == list(range(20))
    again = split_validation(data, 5, seed=1)
    np.testing.assert_array_equal(again[1], x_val)
    assert "validation" in reduced.source and reduced.x_test is data.x_test
    with pytest.raises(ValueError, match=r"validation size"):
        split_validation(data, 20, seed=1)


def test_dequantize_once_is_a_fixed_draw_of_the_same_noise():
    x = np.random.default_rng(1).integers(0, 256, (50, 4)).astype(np.float32) / 255
    first = dequantize_once(x, 256, seed=3)
    np.testing.assert_array_equal(first, dequantize_once(x, 256, seed=3))
    assert not np.array_equal(first, dequantize_once(x, 256, seed=4))
    np.testing.assert_array_equal(np.floor(first * 256), np.round(x * 255))
    assert first.dtype == np.float32 and first.min() >= 0 and first.max() < 1
