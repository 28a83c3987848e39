"""The pixel scale of binarized 8-bit images: byte/255 (tfds, torchvision) or the authors'
byte/256, honoured in every draw (training epochs, the fixed test draw, the batch-norm pass)."""

import dataclasses

import numpy as np
import pytest

from tf_lvae.config import ModelConfig, TrainingConfig
from tf_lvae.data import DatasetArrays, splits, train_dataset
from tf_lvae.data.splits import load_run_data, on_pixel_scale
from tf_lvae.run_config import RunConfig


def white_dataset(likelihood: str = "bernoulli", levels: int | None = 256) -> DatasetArrays:
    """Every pixel 255 (1.0 on the 0..1 scale), 512 train and 512 test images of 8x8."""
    x = np.ones((512, 8, 8), np.float32)
    return DatasetArrays(
        "white", x, x.copy(), None, None, likelihood, True, "all white", levels=levels
    )


def run_config(pixel_scale: int, likelihood: str = "bernoulli") -> RunConfig:
    model = ModelConfig(
        input_shape=(8, 8), latent_dims=(2,), hidden_dims=(4,), likelihood=likelihood
    )
    return RunConfig("white", None, model, TrainingConfig(), pixel_scale=pixel_scale)


def test_rescaling_gives_exactly_byte_over_256():
    grey = np.arange(256, dtype=np.float32) / np.float32(255)
    data = DatasetArrays(
        "levels", grey[None], grey[None], None, None, "bernoulli", True, "k/255", levels=256
    )
    scaled = on_pixel_scale(data, 256)
    np.testing.assert_array_equal(scaled.x_train[0], np.arange(256, dtype=np.float32) / 256)
    assert scaled.x_train.dtype == np.float32 and scaled.x_test.max() == np.float32(0.99609375)
    assert on_pixel_scale(data, 255) is data


@pytest.mark.parametrize("scale, zeros", [(255, 0.0), (256, 1 / 256)])
def test_a_white_pixel_is_drawn_as_zero_once_in_256_on_the_authors_scale(scale, zeros):
    data = load_run_data(run_config(scale), white_dataset())
    pixels = data.x_train.size * 8  # 8 epochs of training draws
    epochs = train_dataset(data.x_train, batch_size=128, binarize=True, seed=0, epochs=8)
    trained = np.concatenate([b.numpy().ravel() for b in epochs])
    test = splits.test_images(data).ravel()
    batch_norm_pass = splits.training_images(data, data.x_train, 3).ravel()
    for draws in (trained, test, batch_norm_pass):
        share = np.mean(draws == 0)
        if zeros == 0:
            assert share == 0  # byte/255: a white pixel is always 1
        else:  # binomial: 262,144 or 65,536 draws, 1/256 each; within 5 standard deviations
            assert abs(share - zeros) < 5 * np.sqrt(zeros * (1 - zeros) / len(draws))
    assert len(trained) == pixels


def test_the_scale_is_recorded_and_old_configs_read_as_255():
    config = run_config(256)
    assert RunConfig.from_dict(config.to_dict()).pixel_scale == 256
    old = {k: v for k, v in config.to_dict().items() if k != "pixel_scale"}
    assert RunConfig.from_dict(old).pixel_scale == 255
    for bad in (254, 256.0, True, "256"):
        with pytest.raises(ValueError, match="pixel_scale must be one of"):
            dataclasses.replace(config, pixel_scale=bad)


@pytest.mark.parametrize(
    "data, likelihood",
    [
        (white_dataset(levels=None), "bernoulli"),  # binary images (OMNIGLOT): no bytes
        (white_dataset(), "gaussian"),  # 8-bit values, not binarized
    ],
)
def test_the_authors_scale_is_refused_where_nothing_is_binarized_from_bytes(data, likelihood):
    with pytest.raises(ValueError, match="leave the scale at 255"):
        load_run_data(run_config(256, likelihood), dataclasses.replace(data, likelihood=likelihood))
    assert load_run_data(run_config(255, likelihood), data).x_train.max() == 1.0
