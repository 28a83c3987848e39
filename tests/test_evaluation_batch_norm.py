"""Batch-norm statistics recomputed from one pass over the training set (docs/method.md §4)."""

import numpy as np
import pytest

from tf_lvae import HierarchicalVAE, ModelConfig
from tf_lvae.config import TrainingConfig
from tf_lvae.data import DatasetArrays
from tf_lvae.data.splits import binarize_once, training_images
from tf_lvae.evaluation import batch_norm
from tf_lvae.evaluation.batch_norm import (
    batch_norm_chunk_rows,
    batch_norm_layers,
    recompute_batch_norm_statistics,
    set_batch_norm_statistics,
)
from tf_lvae.layers import LEAKY_RELU_SLOPE
from tf_lvae.presets import preset
from tf_lvae.run_config import RunConfig

SMALL = {"input_shape": (6, 6), "latent_dims": (5, 4), "hidden_dims": (16, 12)}
CONV = {
    "architecture": "conv",
    "latent_dims": (3, 2),
    "hidden_dims": (8, 8),
    "strides": (2, 2),
    "residual_blocks": 1,
}


def small_model(**changes) -> HierarchicalVAE:
    model = HierarchicalVAE(ModelConfig(**{**SMALL, **changes}), seed=0)
    rng = np.random.default_rng(1)
    for layer in batch_norm_layers(model):  # trained-looking scales and offsets
        layer.gamma.assign(rng.uniform(0.5, 2.0, layer.gamma.shape))
        layer.beta.assign(rng.normal(size=layer.beta.shape))
    return model


def grey(n=300, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(n, 6, 6)).astype("float32")


def test_every_batch_norm_layer_is_found():
    # 2 per MLP: up 2 + top-down 1 + prior 1 + decoder 1 MLPs for a 2-layer LVAE, and one
    # per latent head: up 2 + top-down 1 + prior 1 (the output layer of x has none)
    assert len(batch_norm_layers(small_model(kind="lvae"))) == 14
    assert len(batch_norm_layers(small_model(kind="lvae", latent_batch_norm=False))) == 10
    assert len(batch_norm_layers(small_model(kind="vae"))) == 11
    assert batch_norm_layers(small_model(batch_norm=False)) == []


def test_the_first_block_gets_the_population_statistics_computed_by_hand():
    model = small_model(kind="vae")
    x = (grey() < 0.4).astype("float32")
    assert recompute_batch_norm_statistics(model, x, seed=0) == 11
    block = model.inference.up_mlps[0]
    h = x.reshape(len(x), -1).astype(np.float64)
    for dense, norm in zip(block.dense, block.norm, strict=True):
        a = h @ dense.kernel.numpy()
        mean, variance = a.mean(axis=0), a.var(axis=0)  # population (biased) variance
        np.testing.assert_allclose(norm.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(norm.moving_variance.numpy(), variance, rtol=1e-4, atol=1e-5)
        b = (a - mean) / np.sqrt(variance + norm.epsilon) * norm.gamma.numpy() + norm.beta.numpy()
        h = np.maximum(b, LEAKY_RELU_SLOPE * b)


def _capture_inputs(layers) -> dict:
    """Records the inputs of every call of `layers` (by layer name)."""
    seen = {}
    for layer in layers:
        original = layer.call

        def call(inputs, *args, _original=original, _name=layer.path, **kwargs):
            seen.setdefault(_name, []).append(np.asarray(inputs))
            return _original(inputs, *args, **kwargs)

        layer.call = call
    return seen


def _assert_population_statistics_of(layers, seen):
    assert len(seen) == len(layers)
    for layer in layers:
        inputs = np.concatenate(seen[layer.path])
        axes = tuple(range(inputs.ndim - 1))  # per unit, or per channel of a conv layer
        np.testing.assert_allclose(layer.moving_mean.numpy(), inputs.mean(axes), atol=1e-4)
        np.testing.assert_allclose(
            layer.moving_variance.numpy(), inputs.var(axes), rtol=1e-3, atol=1e-5
        )


@pytest.mark.parametrize("changes", [{"kind": "vae"}, {"kind": "lvae"}, {"top_down": "shared"}])
def test_every_layer_holds_the_population_statistics_of_its_inputs(changes):
    """In inference mode after the recomputation, the same pass (same samples) feeds every
    batch-norm layer inputs whose mean and variance over the training set are exactly the
    stored statistics: each layer normalizes by its own population statistics."""
    model = small_model(**changes)
    x = binarize_once(grey(), seed=4)
    layers = batch_norm_layers(model)
    recompute_batch_norm_statistics(model, x, seed=7)
    assert all(layer.momentum == 0.99 for layer in layers)  # restored
    seen = _capture_inputs(layers)
    samples = model.infer(x, seed=7)
    model.generative.likelihood(samples[0].z)
    _assert_population_statistics_of(layers, seen)


@pytest.mark.parametrize(
    "changes",
    [{"kind": "lvae"}, {"kind": "vae"}, {**CONV, "kind": "lvae"}, {**CONV, "kind": "vae"}],
)
def test_in_chunks_every_layer_holds_the_population_statistics_of_its_inputs(changes):
    """The same property computed in chunks (the last one shorter), depth after depth:
    in inference mode, the chunks with their seeds (7, k) feed every layer inputs whose
    statistics over all of them are the stored ones."""
    model = small_model(**changes)
    x = binarize_once(grey(60), seed=4)
    layers = batch_norm_layers(model)
    recompute_batch_norm_statistics(model, x, seed=7, chunk_rows=25)
    assert all(layer.momentum == 0.99 and layer.trainable for layer in layers)  # restored
    assert model.batch_norm_statistics == {"recomputed_from": 60, "seed": 7, "chunk_rows": 25}
    seen = _capture_inputs(layers)
    for k, start in enumerate(range(0, 60, 25)):
        samples = model.infer(x[start : start + 25], seed=[7, k])
        model.generative.likelihood(samples[0].z)
    _assert_population_statistics_of(layers, seen)


@pytest.mark.parametrize("changes", [{}, CONV])
def test_the_ladders_deterministic_path_gets_the_one_batch_statistics_from_chunks(changes):
    """The LVAE's bottom-up path draws no samples, so its statistics from chunks are those of
    the authors' one batch, however the set is cut; a single chunk is that batch."""
    x = binarize_once(grey(60), seed=4)
    one_batch, chunked, one_chunk = (small_model(kind="lvae", **changes) for _ in range(3))
    for model in (chunked, one_chunk):
        model.set_weights(one_batch.get_weights())
    recompute_batch_norm_statistics(one_batch, x, seed=7)
    recompute_batch_norm_statistics(chunked, x, seed=7, chunk_rows=16)
    recompute_batch_norm_statistics(one_chunk, x, seed=7, chunk_rows=60)
    assert one_chunk.batch_norm_statistics == {"recomputed_from": 60, "seed": 7}
    for a, b, c in zip(*map(batch_norm_layers, (one_batch, chunked, one_chunk)), strict=True):
        for name in ("moving_mean", "moving_variance"):
            expected = getattr(a, name).numpy()
            np.testing.assert_array_equal(getattr(c, name).numpy(), expected)
            if "/up_" in a.path:
                np.testing.assert_allclose(getattr(b, name).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_recomputation_changes_the_moving_averages_and_nothing_else():
    model = small_model(kind="lvae")
    before = {w.path: w.numpy() for w in model.weights}
    recompute_batch_norm_statistics(model, binarize_once(grey(), 0))
    changed = {w.path for w in model.weights if not np.array_equal(w.numpy(), before[w.path])}
    moving = {
        v.path
        for layer in batch_norm_layers(model)
        for v in (layer.moving_mean, layer.moving_variance)
    }
    assert changed == moving


def test_a_model_without_batch_norm_is_left_alone():
    model = small_model(batch_norm=False)
    before = [w.numpy() for w in model.weights]
    assert recompute_batch_norm_statistics(model, grey()) == 0
    for a, b in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(a, b.numpy())


def arrays(x, **kwargs) -> DatasetArrays:
    values = {"binarize": False, "likelihood": "bernoulli", **kwargs}
    return DatasetArrays("grey", x, x[:10], None, None, source="test", **values)


def test_the_training_images_are_binarized_afresh():
    x = grey(2000)
    binarized = arrays(x, binarize=True)
    fresh = training_images(binarized, x, seed=3)
    assert set(np.unique(fresh)) == {0.0, 1.0}
    assert abs(fresh.mean() - x.mean()) < 0.01
    assert not np.array_equal(fresh, training_images(binarized, x, seed=4))
    np.testing.assert_array_equal(training_images(arrays(x), x, seed=3), x)


def test_the_training_images_are_dequantized_afresh_when_training_dequantizes():
    x = np.round(grey(2000) * 255) / np.float32(255)
    data = arrays(x, likelihood="gaussian", levels=256, dequantize=True)
    fresh = training_images(data, x, seed=3)
    integers = np.round(x * 255)
    assert np.all((fresh * 256 >= integers) & (fresh * 256 < integers + 1))
    assert not np.array_equal(fresh, training_images(data, x, seed=4))


def test_the_architecture_chooses_one_batch_or_chunks_that_bound_the_widest_activation():
    assert batch_norm_chunk_rows(preset("mnist").model) is None  # the authors' one batch
    assert batch_norm_chunk_rows(preset("mnist", architecture="conv").model) == 2**25 // (
        28 * 28 * 32  # the widest activation: x's 28x28 upsampled, 32 channels
    )
    assert batch_norm_chunk_rows(ModelConfig(input_shape=(6, 6), **CONV)) == 2**25 // (6 * 6 * 8)


def test_a_convolutional_run_gets_its_statistics_in_chunks_and_keeps_them(monkeypatch):
    monkeypatch.setattr(batch_norm, "BATCH_NORM_PASS_NUMBERS", 25 * 6 * 6 * 8)  # 25 rows
    model = small_model(**CONV)
    config = RunConfig("grey", None, model.model_config, TrainingConfig())
    data = arrays(grey(60), binarize=True)
    lines = []
    used = set_batch_norm_statistics(
        model, data, config, "recomputed", seed=3, print_fn=lines.append
    )
    assert used["chunk_rows"] == 25 and "chunks of 25" in lines[0]
    assert model.batch_norm_statistics == {"recomputed_from": 60, "seed": 3, "chunk_rows": 25}
    again = set_batch_norm_statistics(
        model, data, config, "recomputed", seed=3, print_fn=lines.append
    )
    assert again["seconds"] == 0.0 and len(lines) == 1  # stored with the model
