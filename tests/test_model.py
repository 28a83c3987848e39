import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_lvae import HierarchicalVAE, ModelConfig, bounds, preset
from tf_lvae.optimizer import ClippedAdam

SMALL = {"input_shape": (6, 6), "latent_dims": (5, 4, 3), "hidden_dims": (16, 12, 8)}
CONV = {"architecture": "conv", "residual_blocks": 1}
VARIANTS = [
    {"kind": "lvae", "top_down": "separate"},
    {"kind": "lvae", "top_down": "shared"},
    {"kind": "vae"},
    {"kind": "lvae", "likelihood": "gaussian", "activation": "tanh"},
    {"kind": "vae", "batch_norm": False},
    {**CONV, "kind": "lvae", "strides": (2, 2, 2)},  # 3x3x5, 2x2x4, 1x1x3 latents
    {**CONV, "kind": "vae", "strides": (1, 2, 1), "batch_norm": False},
    {**CONV, "kind": "lvae", "strides": (2, 1, 2), "likelihood": "gaussian", "top_down": "shared"},
]


def small_model(seed=0, free_bits=0.0, free_bits_group="layer", **changes):
    """A small model whose initial weights depend on `seed` alone, not on the tests that
    ran before in the process."""
    keras.utils.set_random_seed(seed)
    return HierarchicalVAE(
        ModelConfig(**{**SMALL, **changes}),
        seed=seed,
        free_bits=free_bits,
        free_bits_group=free_bits_group,
    )


def grey_batch(n=32, shape=(6, 6), seed=0):
    return np.random.default_rng(seed).uniform(size=(n, *shape)).astype("float32")


@pytest.mark.parametrize("kind", ["lvae", "vae"])
def test_the_papers_five_layer_presets_build(kind):
    model = HierarchicalVAE(preset("mnist", 5, kind).model)
    encoded = model.encode(np.zeros((2, 28, 28), "float32"))
    assert [encoded[f"z{i}_mean"].shape[-1] for i in range(1, 6)] == [64, 32, 16, 8, 4]
    assert len(model.trainable_weights) > 0


def test_one_layer_lvae_and_vae_with_the_same_weights_compute_the_same_bound():
    lvae = small_model(kind="lvae", latent_dims=(5,), hidden_dims=(16,))
    vae = small_model(kind="vae", latent_dims=(5,), hidden_dims=(16,))
    assert [w.path.split("/", 1)[-1] for w in lvae.weights] == [
        w.path.split("/", 1)[-1] for w in vae.weights
    ]
    vae.set_weights(lvae.get_weights())
    x = grey_batch()
    np.testing.assert_allclose(
        lvae.log_weights(x, 4, seed=3), vae.log_weights(x, 4, seed=3), rtol=1e-6
    )
    deeper = small_model(kind="lvae", latent_dims=(5, 4), hidden_dims=(16, 12))
    assert not np.allclose(deeper.log_weights(x, 4, seed=3), vae.log_weights(x, 4, seed=3))


@pytest.mark.parametrize("changes", VARIANTS)
def test_iw_bound_is_above_the_elbo_and_grows_with_k(changes):
    model = small_model(**changes)
    x = grey_batch(64)
    scores = [model.score(x, k, 16, seed=5) for k in (1, 8, 64, 512)]
    iw_bounds = [float(tf.reduce_mean(score["log_likelihood"])) for score in scores]
    assert iw_bounds == sorted(iw_bounds), iw_bounds
    assert iw_bounds[-1] > float(tf.reduce_mean(scores[-1]["elbo"]))
    assert iw_bounds[0] == pytest.approx(
        float(
            tf.reduce_mean(
                model.log_weights(x, 1, seed=tf.random.experimental.stateless_fold_in([5, 0], 0))
            )
        ),
        rel=1e-6,
    )


@pytest.mark.parametrize("changes", [VARIANTS[0], VARIANTS[2], VARIANTS[5], VARIANTS[6]])
def test_the_chunked_bound_runs_the_upward_pass_once_for_all_its_chunks(changes, monkeypatch):
    """The part of q(z | x) that depends on x alone (the ladder's whole deterministic pass,
    the bottom-up VAE's first block) is computed once per batch, not once per chunk of
    samples, and gives the numbers of recomputing it for every chunk."""
    model = small_model(**changes)
    x = grey_batch(8)
    calls = []
    upward = model.inference.upward
    monkeypatch.setattr(
        model.inference, "upward", lambda *args, **kw: calls.append(1) or upward(*args, **kw)
    )
    scored = model.score(x, 10, 2, seed=5)  # five chunks of two samples
    assert len(calls) == 1
    every_chunk = bounds.chunked_iw_bound(
        lambda n, s: model.log_weights(x, n, seed=s), 10, 2, model._seed(5)
    )
    assert len(calls) == 1 + 5
    np.testing.assert_array_equal(scored["log_likelihood"], every_chunk[0])
    np.testing.assert_array_equal(scored["elbo"], every_chunk[1])


@pytest.mark.parametrize("changes", VARIANTS)
def test_at_beta_zero_the_loss_is_the_reconstruction_term_alone(changes):
    model = small_model(**changes)
    x = grey_batch()
    loss, stats = model._objective(x, 1, 1, 0.0, training=True)
    np.testing.assert_allclose(loss, -stats["reconstruction"], rtol=1e-6)
    loss, stats = model._objective(x, 1, 1, 1.0, training=True)
    np.testing.assert_allclose(loss, -stats["elbo"], rtol=1e-6)
    assert float(stats["kl"]) > 0
    np.testing.assert_allclose(stats["kl"], sum(stats[f"kl_z{i}"] for i in (1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("changes", [*VARIANTS, {"kind": "lvae", "kl_estimator": "analytic"}])
def test_gradients_reach_every_layers_variables(changes):
    model = small_model(**changes)
    with tf.GradientTape() as tape:
        loss, _ = model._objective(grey_batch(), 2, 2, 1.0, training=True)
    grads = tape.gradient(loss, model.trainable_weights)
    missing = [
        w.path
        for w, g in zip(model.trainable_weights, grads, strict=True)
        if g is None or not np.any(g.numpy())
    ]
    assert not missing
    names = {w.path.split("/")[1] for w in model.trainable_weights}
    expected = {"up_mlp_1", "up_head_3", "prior_mlp_2", "decoder_mlp"}
    if changes.get("kind") == "lvae" and changes.get("top_down") == "separate":
        expected |= {"top_down_mlp_1", "top_down_head_2"}
    assert expected <= {n for w in model.trainable_weights for n in w.path.split("/")}, names


def test_shared_top_down_has_no_separate_inference_mlps():
    shared = small_model(kind="lvae", top_down="shared")
    separate = small_model(kind="lvae", top_down="separate")
    assert shared.count_params() < separate.count_params()
    assert not any("top_down" in w.path for w in shared.weights)


def test_no_nan_or_inf_for_extreme_valid_inputs():
    for changes in VARIANTS:
        model = small_model(**changes)
        for x in (np.zeros((8, 6, 6), "f4"), np.ones((8, 6, 6), "f4"), grey_batch(8)):
            loss, stats = model._objective(x, 2, 3, 1.0, training=True)
            values = [loss, *stats.values(), model.score(x, 20, 7, seed=1)["log_likelihood"]]
            assert all(np.all(np.isfinite(v)) for v in values), changes


@pytest.mark.parametrize("architecture", [{}, {**CONV, "strides": (2, 1, 2)}])
def test_a_saved_and_reloaded_model_gives_identical_outputs(tmp_path, architecture):
    model = small_model(
        kind="lvae", top_down="shared", likelihood="gaussian", activation="tanh", **architecture
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(grey_batch(64), batch_size=16, epochs=1, verbose=0)  # moves BN statistics
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, HierarchicalVAE)
    assert loaded.model_config == model.model_config
    x = grey_batch(8, seed=1)
    for name, value in model.encode(x).items():
        np.testing.assert_array_equal(value, loaded.encode(x)[name])
    np.testing.assert_array_equal(model.reconstruct(x), loaded.reconstruct(x))
    np.testing.assert_array_equal(model.sample(4, seed=3), loaded.sample(4, seed=3))
    np.testing.assert_array_equal(
        model.score(x, 30, 8, seed=2)["log_likelihood"],
        loaded.score(x, 30, 8, seed=2)["log_likelihood"],
    )


def test_sampling_is_seeded_and_can_start_at_any_layer():
    model = small_model()
    a, b = model.sample(5, seed=1), model.sample(5, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, model.sample(5, seed=2))
    assert a.shape == (5, 6, 6)
    assert np.all((a.numpy() >= 0) & (a.numpy() <= 1))
    # Injecting at z1 ignores the layers above, so z1's noise alone decides the images.
    from_z1 = model.sample(5, from_layer=1, seed=1)
    assert not np.allclose(from_z1, a)
    np.testing.assert_array_equal(from_z1, model.sample(5, from_layer=tf.constant(1), seed=1))
    # Temperature 0 from the top gives the same image for every sample.
    cold = model.sample(3, temperature=0.0, seed=4).numpy()
    np.testing.assert_allclose(cold, np.broadcast_to(cold[:1], cold.shape), atol=1e-6)
    with pytest.raises(ValueError, match=r"from_layer must be in 1\.\.3"):
        model.sample(2, from_layer=4)


def test_evaluate_reports_the_beta_one_elbo():
    model = small_model()
    model.compile(optimizer="adam")
    model.beta.assign(0.0)
    result = model.evaluate(grey_batch(64), batch_size=64, verbose=0, return_dict=True)
    assert result["beta"] == 1.0
    assert result["loss"] == pytest.approx(-result["elbo"])


def test_mc_and_iw_samples_are_validated_and_saved():
    with pytest.raises(ValueError, match="iw_samples must be a positive integer"):
        HierarchicalVAE(ModelConfig(**SMALL), iw_samples=0)
    model = HierarchicalVAE(ModelConfig(**SMALL), mc_samples=3, iw_samples=2)
    clone = HierarchicalVAE.from_config(model.get_config())
    assert (clone.mc_samples, clone.iw_samples) == (3, 2)


def test_a_stack_of_batches_runs_the_same_steps_as_one_batch_at_a_time():
    x = np.stack([grey_batch(16, seed=1), grey_batch(16, seed=2), grey_batch(16, seed=3)])
    one_at_a_time, stacked = small_model(seed=4), small_model(seed=4)
    stacked.set_weights(one_at_a_time.get_weights())
    for model in (one_at_a_time, stacked):
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.optimizer.build(model.trainable_variables)
    for batch in x:
        single = one_at_a_time.train_step(tf.constant(batch))
    logs = stacked.train_step(tf.constant(x))
    assert int(stacked.optimizer.iterations) == int(one_at_a_time.optimizer.iterations) == 3
    for a, b in zip(one_at_a_time.get_weights(), stacked.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert float(logs["elbo"]) == pytest.approx(float(single["elbo"]), rel=1e-5)


def test_a_short_training_run_on_real_mnist_lowers_the_loss(shared_data):
    from tf_lvae.data import load_dataset, train_dataset
    from tf_lvae.optimizer import make_optimizer

    data = load_dataset("mnist", str(shared_data / "mnist"), download=False)
    x = data.x_train[:3072]
    model = HierarchicalVAE(preset("mnist", 2).model, seed=0)
    model.compile(optimizer=make_optimizer(preset("mnist").training), jit_compile=True)
    batches = train_dataset(x, batch_size=256, binarize=True, seed=0, epochs=4)
    history = model.fit(batches, epochs=4, steps_per_epoch=12, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] - 50, losses  # the loss (-ELBO) falls by far more than 50 nats
    assert all(np.isfinite(losses))


@pytest.mark.parametrize("clip", [True, False])
def test_a_step_that_is_not_finite_is_skipped_and_counted(clip):
    model = small_model()
    model.compile(optimizer=ClippedAdam(4.0 if clip else None, 0.9 if clip else None))
    model.train_step(grey_batch(16))  # builds the optimizer
    before = [v.numpy().copy() for v in model.variables if "seed_generator" not in v.path]
    model.reset_metrics()
    bad = grey_batch(16)
    bad[3, 2, 2] = np.nan
    logs = model.train_step(bad)
    after = [v.numpy() for v in model.variables if "seed_generator" not in v.path]
    for a, b in zip(before, after, strict=True):  # weights and batch-norm statistics
        np.testing.assert_array_equal(a, b)
    assert float(logs["skipped_steps"]) == 1.0
    logs = model.train_step(grey_batch(16))
    assert float(logs["skipped_steps"]) == 1.0 and np.isfinite(float(logs["elbo"]))


def test_a_conv_model_has_spatial_latent_layers():
    model = small_model(**CONV, kind="lvae", strides=(2, 2, 2))
    config = model.model_config
    assert config.data_shape == (6, 6, 1)
    assert [config.latent_shape(i) for i in range(3)] == [(3, 3, 5), (2, 2, 4), (1, 1, 3)]
    x = grey_batch(4)
    encoded = model.encode(x)
    assert [encoded[f"z{i}_mean"].shape for i in (1, 2, 3)] == [
        (4, 3, 3, 5),
        (4, 2, 2, 4),
        (4, 1, 1, 3),
    ]
    assert model.sample(2, from_layer=2, seed=1).shape == (2, 6, 6)
    assert model.reconstruct(x).shape == (4, 6, 6)
    terms = model(x)
    assert terms["elbo"].shape == (4,) and terms["kl"].shape == (4, 3)
    samples = model.infer(x, num_samples=3, seed=1)
    assert [s.z.shape for s in samples] == [(12, 3, 3, 5), (12, 2, 2, 4), (12, 1, 1, 3)]


@pytest.mark.parametrize("architecture", [{}, {**CONV, "strides": (2, 2, 2)}])
@pytest.mark.parametrize(("group", "groups"), [("layer", 3), ("channel", 5 + 4 + 3)])
def test_free_bits_hold_each_groups_kl_term_at_lambda_at_least(architecture, group, groups):
    model = small_model(**architecture)
    tuned = small_model(**architecture, free_bits=1e4, free_bits_group=group)
    tuned.set_weights(model.get_weights())
    x = grey_batch()
    _, stats = model._objective(x, 1, 1, 0.5, training=True)
    loss, tuned_stats = tuned._objective(x, 1, 1, 0.5, training=True)
    for key in ("elbo", "reconstruction", "kl"):  # the reported bound is the true one
        np.testing.assert_allclose(tuned_stats[key], stats[key], rtol=1e-6)
    # every group's KL is below λ = 1e4 nats: each KL term is λ (latent_dims are the units
    # of an MLP, the channels of a conv model)
    np.testing.assert_allclose(-loss, float(stats["reconstruction"]) - 0.5 * groups * 1e4)


def test_free_bits_stop_the_kl_gradient_of_a_group_below_lambda():
    model = small_model(kind="vae", free_bits=1e4)
    with tf.GradientTape() as tape:
        loss, _ = model._objective(grey_batch(), 1, 1, 1.0, training=True)
    top_head = [w for w in model.trainable_weights if "up_head_3" in w.path]
    # z3 feeds nothing but its KL term, which free bits hold constant.
    assert all(not np.any(g.numpy()) for g in tape.gradient(loss, top_head))


def test_free_bits_are_validated_and_saved():
    with pytest.raises(ValueError, match="use iw_samples=1 with free_bits"):
        HierarchicalVAE(ModelConfig(**SMALL), iw_samples=2, free_bits=0.5)
    with pytest.raises(ValueError, match="free_bits_group must be one of"):
        HierarchicalVAE(ModelConfig(**SMALL), free_bits=0.5, free_bits_group="unit")
    model = HierarchicalVAE(ModelConfig(**SMALL), free_bits=0.25, free_bits_group="channel")
    clone = HierarchicalVAE.from_config(model.get_config())
    assert (clone.free_bits, clone.free_bits_group) == (0.25, "channel")
