"""The test log-likelihood over a dataset: the compiled, batched scores are the model's."""

import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf

from tf_lvae import HierarchicalVAE, ModelConfig
from tf_lvae.bounds import iw_bound, iw_chunk_size
from tf_lvae.evaluation.scoring import Evaluator, log_likelihood_report


def model_and_images():
    model = HierarchicalVAE(
        ModelConfig(input_shape=(6, 6), latent_dims=(4, 3), hidden_dims=(8, 8)), seed=0
    )
    x = (np.random.default_rng(0).uniform(size=(23, 6, 6)) < 0.3).astype("float32")
    return model, x


def test_the_scores_are_the_models_on_each_batch_with_its_seed():
    model, x = model_and_images()
    scores = Evaluator(model, batch_size=10, jit_compile=False).score(x, 7, seed=3)
    base = tf.constant([3, 0], tf.int32)
    for i, start in enumerate(range(0, 23, 10)):
        seed = tf.random.experimental.stateless_fold_in(base, i)
        direct = model.score(x[start : start + 10], 7, iw_chunk_size(7, 10), seed)
        np.testing.assert_allclose(
            scores["log_likelihood"][start : start + 10], direct["log_likelihood"], rtol=1e-5
        )
    assert scores["elbo"].shape == (23,) and np.all(scores["elbo"] <= scores["log_likelihood"])


def test_a_part_from_a_batch_boundary_scores_what_the_whole_scores_there():
    model, x = model_and_images()
    evaluator = Evaluator(model, batch_size=10, jit_compile=False)
    whole = evaluator.score(x, 7, seed=3)
    part = evaluator.score(x[10:], 7, seed=3, first_batch=1)
    for key, scores in part.items():
        np.testing.assert_array_equal(scores, whole[key][10:])
    assert not np.array_equal(evaluator.score(x[10:], 7, seed=3)["elbo"], whole["elbo"][10:])


def test_the_report_holds_the_means_and_how_they_were_made():
    model, x = model_and_images()
    evaluator = Evaluator(model, batch_size=10, jit_compile=False)
    report = log_likelihood_report(evaluator, x, 5, seed=1)
    assert (report["iw_samples"], report["examples"]) == (5, 23)
    assert report["log_likelihood"] == np.mean(evaluator.score(x, 5, seed=1)["log_likelihood"])


def test_chunks_hold_at_most_4096_rows():
    assert iw_chunk_size(5000, 256) == 16 and iw_chunk_size(5000, 500) == 8
    assert iw_chunk_size(3, 500) == 3 and iw_chunk_size(10, 100_000) == 1


def test_the_chunked_bound_is_the_bound_over_all_samples_of_the_chunks():
    """The evaluator's fast path (chunks of a few thousand rows, a running log-sum-exp)
    computes exactly the bound over all K log weights drawn with the chunks' seeds."""
    model, x = model_and_images()
    k, batch = 37, 23
    chunk = iw_chunk_size(k, batch)
    # without XLA, whose stateless random numbers differ from the eager ones used below
    scores = Evaluator(model, batch_size=batch, jit_compile=False).score(x, k, seed=5)
    seed = tf.random.experimental.stateless_fold_in(tf.constant([5, 0], tf.int32), 0)
    sizes = [chunk] * (k // chunk) + ([k % chunk] if k % chunk else [])
    log_w = tf.concat(
        [
            model.log_weights(x, n, tf.random.experimental.stateless_fold_in(seed, i))
            for i, n in enumerate(sizes)
        ],
        axis=0,
    )
    np.testing.assert_allclose(scores["log_likelihood"], iw_bound(log_w).numpy(), rtol=1e-5)
    np.testing.assert_allclose(scores["elbo"], tf.reduce_mean(log_w, 0).numpy(), rtol=1e-5)


def test_bits_per_dim_of_dequantized_8_bit_data():
    from tf_lvae.evaluation.scoring import bits_per_dim

    # the uniform density on [0, 1)^D: the uniform distribution on the 256 levels, 8 bits
    assert bits_per_dim(0.0, 784, 256) == pytest.approx(8.0, rel=1e-12)
    # the Fashion-MNIST example: +1168 nats, D = 784, s = 255
    assert bits_per_dim(1168.0, 784, 255) == pytest.approx(5.84, abs=0.01)


def test_the_report_gives_bits_per_dim_of_8_bit_data_only():
    model, x = model_and_images()
    evaluator = Evaluator(model, batch_size=10, jit_compile=False)
    plain = log_likelihood_report(evaluator, x, 3)
    assert "bits_per_dim" not in plain
    report = log_likelihood_report(evaluator, x, 3, bits_scale=256)
    assert report["log_likelihood"] == plain["log_likelihood"]
    expected = (-report["log_likelihood"] / 36 + np.log(256)) / np.log(2)
    assert report["bits_per_dim"] == pytest.approx(expected)
    assert report["dequantization_scale"] == 256
    levels = log_likelihood_report(evaluator, x, 3, bits_scale=1)  # a likelihood of levels
    assert levels["bits_per_dim"] == pytest.approx(-report["log_likelihood"] / (36 * np.log(2)))
    assert "dequantization_scale" not in levels


def test_a_scored_model_nobody_holds_is_released_with_its_compiled_functions():
    """Scoring many models in one process keeps none of them alive."""
    model = HierarchicalVAE(ModelConfig(input_shape=(4, 4), latent_dims=(2,), hidden_dims=(8,)))
    Evaluator(model, jit_compile=False).score(np.zeros((3, 4, 4), np.float32), 2, seed=0)
    released = weakref.ref(model)
    del model
    gc.collect()
    assert released() is None
