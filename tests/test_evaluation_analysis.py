"""The latent analysis: KL to N(0, I), per-unit KLs, active units, posterior samples, PCA."""

import numpy as np
import pytest
import tensorflow_probability as tfp

from tf_lvae import HierarchicalVAE, ModelConfig
from tf_lvae.evaluation.analysis import (
    active_units,
    kl_to_standard_normal,
    layer_totals,
    mean_unit_kls,
    pca,
    posterior_samples,
)

tfd = tfp.distributions
SMALL = {"input_shape": (6, 6), "latent_dims": (5, 4), "hidden_dims": (16, 12)}


def small_model(**changes) -> HierarchicalVAE:
    return HierarchicalVAE(ModelConfig(**{**SMALL, **changes}), seed=0)


def images(n=40, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(size=(n, 6, 6)) < 0.3).astype("float32")


def closed_form_kl(mean, variance) -> np.ndarray:
    """KL(N(mean, variance) || N(0, 1)) per unit."""
    return 0.5 * (variance + mean**2 - 1.0 - np.log(variance))


@pytest.mark.parametrize("kind", ["vae", "lvae"])
def test_kl_to_standard_normal_is_the_closed_form(kind):
    samples = small_model(kind=kind).infer(images(), seed=3)
    for s in samples:
        mean, variance = s.posterior.mean().numpy(), s.posterior.variance().numpy()
        np.testing.assert_allclose(
            kl_to_standard_normal(s), closed_form_kl(mean, variance), rtol=1e-4, atol=1e-6
        )


def test_mean_unit_kls_average_the_closed_form_over_the_examples():
    model = small_model(latent_dims=(5,), hidden_dims=(16,))  # q(z1 | x), p(z1) = N(0, I)
    x = images(23)
    encoded = model.encode(x)
    expected = closed_form_kl(encoded["z1_mean"].numpy(), encoded["z1_variance"].numpy())
    kls = mean_unit_kls(model, x, batch_size=7, samples=4000)  # partial last batch
    # the Monte Carlo estimate at the sample: within a few standard errors (~0.003 nats)
    np.testing.assert_allclose(kls.prior[0], expected.mean(axis=0), atol=0.015)
    # float32 encodings of batches of 7 against one batch of 23: kernels differ by ~1e-5
    np.testing.assert_allclose(kls.standard_normal[0], expected.mean(axis=0), rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(
        mean_unit_kls(model, x, batch_size=7).prior[0], kls.prior[0], atol=0.1
    )


def test_the_top_layers_kl_to_the_prior_is_its_kl_to_the_standard_normal():
    kls = mean_unit_kls(small_model(kind="vae"), images(), samples=2000)
    np.testing.assert_allclose(kls.prior[-1], kls.standard_normal[-1], atol=0.02)
    assert not np.allclose(kls.prior[0], kls.standard_normal[0], atol=0.02)
    assert layer_totals(kls.prior) == pytest.approx([float(k.sum()) for k in kls.prior])


def _identity_path(mlp, head, raw_variance: float, shift: float = 10.0) -> None:
    """Sets an ELU MLP and its Gaussian head so that the head's mean is its input and its
    variance softplus(raw_variance) + min_variance (ELU is the identity above 0: the
    hidden layers carry input + shift)."""
    for dense in mlp.dense:
        kernel = np.zeros(dense.kernel.shape, "float32")
        np.fill_diagonal(kernel, 1.0)
        bias = np.zeros(dense.bias.shape, "float32")
        bias[: min(kernel.shape)] = shift if dense is mlp.dense[0] else 0.0
        dense.set_weights([kernel, bias])
    units = head.units
    kernel = np.zeros(head.dense.kernel.shape, "float32")
    np.fill_diagonal(kernel[:, :units], 1.0)
    bias = np.concatenate([np.full(units, -shift), np.full(units, raw_variance)])
    head.dense.set_weights([kernel, bias.astype("float32")])


def correlated_vae() -> HierarchicalVAE:
    """A 2-layer bottom-up VAE whose q(z2 | z1) is N(z1, ~5e-5) and whose prior p(z1 | z2)
    is N(z2, 0.05): z2 is nearly z1, and p(z1 | z2) predicts z1 well only at the joint
    sample, so layer 1's KL there is far from the closed form given the sample of z2."""
    model = small_model(kind="vae", batch_norm=False, activation="elu", latent_dims=(3, 3))
    _identity_path(model.inference.up_mlps[1], model.inference.up_heads[1], -10.0)
    _identity_path(
        model.generative.prior_mlps[0], model.generative.prior_heads[0], inverse_softplus(0.05)
    )
    return model


def test_layer_kls_of_the_analysis_sum_to_the_elbos_kl_on_a_correlated_vae():
    model = correlated_vae()
    x = images(60)
    # The ELBO's KL term of each layer, E_q[log q(z_i | .) - log p(z_i | z_{i+1})], from
    # independent joint posterior samples.
    draws = 200
    samples = model.infer(np.repeat(x, draws, axis=0), seed=7)
    per_layer = np.stack(
        [(s.posterior.log_prob(s.z) - s.prior.log_prob(s.z)).numpy().sum(-1) for s in samples]
    )
    elbo_kl = per_layer.mean(axis=1)
    error = per_layer.std(axis=1) / np.sqrt(per_layer.shape[1])
    analysis = np.array(layer_totals(mean_unit_kls(model, x, samples=draws, seed=1).prior))
    assert np.all(np.abs(analysis - elbo_kl) < 5 * error), (analysis, elbo_kl, error)
    assert abs(analysis.sum() - elbo_kl.sum()) < 5 * np.sqrt((error**2).sum())
    # the closed form given the sample above (the estimator of tf_lvae 0.1) is far off
    closed_form = tfd.kl_divergence(samples[0].posterior, samples[0].prior).numpy()
    assert closed_form.sum(-1).mean() - elbo_kl[0] > 100 * error[0]


def _set_head(head, dead: list[int], alive_mean: float, dead_raw_variance: float) -> None:
    """Makes the Gaussian head output N(0, softplus(dead_raw_variance) + min_variance) for
    the `dead` units whatever its input, and mean `alive_mean` (plus the input's
    contribution) for the others."""
    kernel, bias = (w.numpy() for w in head.dense.weights)
    units = head.units
    for k in dead:
        kernel[:, k] = kernel[:, units + k] = 0.0
        bias[k], bias[units + k] = 0.0, dead_raw_variance
    for k in set(range(units)) - set(dead):
        bias[k] = alive_mean
    head.dense.set_weights([kernel, bias])


def inverse_softplus(y: float) -> float:
    return float(np.log(np.expm1(y)))


@pytest.mark.parametrize("kind", ["vae", "lvae"])
def test_units_whose_posterior_is_the_prior_are_counted_inactive(kind):
    model = small_model(kind=kind, latent_batch_norm=False)
    dead = [0, 2]
    # The top posterior becomes N(0, 1) = p(z2) for the dead units, and far from it else.
    top = model.inference.up_heads[-1]
    _set_head(top, dead, alive_mean=2.0, dead_raw_variance=inverse_softplus(1.0 - 1e-5))
    kls = mean_unit_kls(model, images()).prior
    assert np.all(kls[1][dead] < 1e-6)
    assert np.all(np.delete(kls[1], dead) > 1.0)
    assert active_units(kls)[1] == 4 - len(dead)


def test_lvae_units_without_bottom_up_information_are_inactive():
    model = small_model(kind="lvae", top_down="shared", latent_batch_norm=False)
    dead = [1, 3, 4]
    # A huge bottom-up variance: the precision-weighted merge returns the top-down
    # (= prior, shared parameterization) Gaussian for the dead units of z1.
    _set_head(model.inference.up_heads[0], dead, alive_mean=3.0, dead_raw_variance=1e5)
    kls = mean_unit_kls(model, images()).prior
    assert np.all(kls[0][dead] < 1e-3)
    assert active_units(kls)[0] == 5 - len(dead)


def test_active_units_use_a_strict_threshold():
    kls = [np.array([0.0, 0.01, 0.0101, 3.0]), np.array([0.02])]
    assert active_units(kls) == [2, 1]
    assert active_units(kls, threshold=0.5) == [1, 0]


def test_posterior_samples_are_draws_from_the_posterior():
    model = small_model(latent_dims=(5,), hidden_dims=(16,))
    x = np.repeat(images(4), 500, axis=0)
    z = posterior_samples(model, x, batch_size=300, seed=1)
    assert [a.shape for a in z] == [(2000, 5)]
    encoded = model.encode(x)
    standard = (z[0] - encoded["z1_mean"].numpy()) / np.sqrt(encoded["z1_variance"].numpy())
    assert abs(standard.mean()) < 0.05 and abs(standard.std() - 1.0) < 0.05
    np.testing.assert_array_equal(z[0], posterior_samples(model, x, batch_size=300, seed=1)[0])
    assert not np.array_equal(z[0], posterior_samples(model, x, batch_size=300, seed=2)[0])
    shapes = [a.shape for a in posterior_samples(small_model(), images(9), batch_size=4)]
    assert shapes == [(9, 5), (9, 4)]


def test_pca_matches_the_eigendecomposition_of_the_covariance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 3.0
    result = pca(x, 2)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(x, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    top = eigenvectors[:, order[:2]]
    np.testing.assert_allclose(result.explained, eigenvalues[order[:2]] / eigenvalues.sum())
    np.testing.assert_allclose(np.abs(result.components), np.abs(top.T), atol=1e-8)
    expected = (x - x.mean(axis=0)) @ top
    np.testing.assert_allclose(np.abs(result.points), np.abs(expected), atol=1e-8)
    for component in result.components:
        assert component[np.argmax(np.abs(component))] > 0  # the sign convention
    assert np.var(result.points[:, 0]) >= np.var(result.points[:, 1])


def test_pca_of_one_dimensional_data_has_one_component():
    x = np.arange(10.0)[:, None]
    result = pca(x, 2)
    assert result.points.shape == (10, 1)
    np.testing.assert_allclose(result.explained, [1.0])
