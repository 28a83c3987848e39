"""The discretized logistic mixture: exact normalization, agreement with a float64 NumPy
evaluation of the same formula, and samples drawn from the distribution it scores."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tf_lvae.logistic_mixture import MIN_LOG_SCALE, DiscretizedLogisticMixture, parameter_count

LEVELS = np.arange(256)


def mixture(parameters: np.ndarray, components: int, channels: int):
    """The distribution of one pixel per row: parameters [rows, P]."""
    return DiscretizedLogisticMixture(
        tf.constant(parameters[:, None, :], tf.float32), components, (channels,), channels
    )


def every_value(channels: int) -> np.ndarray:
    """Every pixel of `channels` 8-bit channels, as levels k / 255: [256**channels, C]."""
    return np.array(list(itertools.product(LEVELS, repeat=channels)), np.float32) / 255


def extreme_parameters(rng, count: int, components: int, channels: int) -> np.ndarray:
    """Parameters from ordinary to absurd: scales from the floor (4.6e-4; log scales below
    it are floored) to 1e9, means far outside [0, 1], near-certain components, saturated
    coefficients."""
    size = (count, parameter_count(components, channels))
    magnitude = rng.choice([0.01, 1.0, 5.0, 20.0, 60.0], size=size)
    return (rng.normal(size=size) * magnitude).astype(np.float32)


@pytest.mark.parametrize("channels", [1, 2])
def test_the_probabilities_of_every_pixel_value_sum_to_one(channels):
    rng = np.random.default_rng(channels)
    components = 4
    parameters = extreme_parameters(rng, 12, components, channels)
    parameters[0, components : components + channels * components] = 0.5  # central means,
    parameters[0, components + channels * components :] = -30.0  # scales below the floor
    values = every_value(channels)
    for row in parameters:
        tiled = np.tile(row, (len(values), 1))
        log_p = mixture(tiled, components, channels).log_prob(values[:, None, :]).numpy()
        assert np.isfinite(log_p).all()
        assert np.exp(log_p.astype(np.float64)).sum() == pytest.approx(1.0, abs=2e-5)


def sigmoid(v):
    return np.exp(-np.logaddexp(0.0, -v))


def numpy_log_prob(parameters: np.ndarray, x: np.ndarray, components: int, channels: int):
    """log p(x) of one pixel per row in float64, straight from the definition:
    log sum_k pi_k prod_c [F(x_c + h) - F(x_c - h)], with F the logistic CDF, the first bin
    F(h) and the last 1 - F(1 - h); channel c's mean moved by tanh(coefficient) x_j."""
    p = parameters.astype(np.float64)
    k, c = components, channels
    logits = p[:, :k]
    means = p[:, k : k + c * k].reshape(-1, c, k)
    log_scales = np.maximum(p[:, k + c * k : k + 2 * c * k].reshape(-1, c, k), MIN_LOG_SCALE)
    coefficients = np.tanh(p[:, k + 2 * c * k :].reshape(len(p), c * (c - 1) // 2, k))
    log_weights = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    total = log_weights.copy()
    pair = 0
    for channel in range(c):
        mean = means[:, channel].copy()
        for j in range(channel):
            mean += coefficients[:, pair] * x[:, j : j + 1]
            pair += 1
        value = x[:, channel : channel + 1].astype(np.float64)
        scale = np.exp(log_scales[:, channel])
        a, b = (value + 0.5 / 255 - mean) / scale, (value - 0.5 / 255 - mean) / scale
        # F(a) - F(b), or S(b) - S(a) above the mean (S = 1 - F): no difference of two
        # numbers near 1
        mass = np.where(a + b > 0, sigmoid(-b) - sigmoid(-a), sigmoid(a) - sigmoid(b))
        level = np.round(value * 255)
        mass = np.where(level == 0, sigmoid(a), np.where(level == 255, sigmoid(-b), mass))
        with np.errstate(divide="ignore"):  # a far component's mass underflows: no weight
            total += np.log(mass)
    return np.logaddexp.reduce(total, axis=1)


@pytest.mark.parametrize("channels, components", [(1, 5), (3, 5), (1, 1), (3, 1)])
def test_it_agrees_with_a_float64_numpy_evaluation(channels, components):
    rng = np.random.default_rng(10 + channels)
    size = (2000, parameter_count(components, channels))
    parameters = rng.normal(size=size).astype(np.float32)
    parameters[:, components : components + channels * components] *= 0.5
    parameters[:, components + channels * components :] -= 2.0  # scales of 0.01 to 1
    x = rng.integers(0, 256, size=(2000, channels)).astype(np.float32) / 255
    x[:50] = 0.0  # the open-ended bins
    x[50:100] = 1.0
    ours = mixture(parameters, components, channels).log_prob(x[:, None, :]).numpy()
    expected = numpy_log_prob(parameters, x, components, channels)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-4)


def test_samples_follow_the_probabilities_and_are_levels():
    parameters = np.array([[0.0, 1.0, 0.3, 0.7, -3.0, -4.0]], np.float32)  # K = 2, grey
    draws = 100_000
    distribution = mixture(np.repeat(parameters, draws, axis=0), 2, 1)
    samples = distribution.sample(tf.constant([3, 4], tf.int32)).numpy().ravel()
    levels = np.round(samples * 255)
    np.testing.assert_array_equal(samples, (levels / 255).astype(np.float32))
    counts = np.bincount(levels.astype(int), minlength=256)
    values = LEVELS.astype(np.float32)[:, None, None] / 255
    p = np.exp(mixture(np.repeat(parameters, 256, axis=0), 2, 1).log_prob(values).numpy())
    expected = draws * p
    common = expected > 50  # a chi-square over the levels with enough expected draws
    chi2 = np.sum((counts[common] - expected[common]) ** 2 / expected[common])
    assert chi2 < common.sum() + 5 * np.sqrt(2 * common.sum())


def test_the_mean_image_is_levels_near_the_mixture_mean():
    parameters = np.array([[0.0, 0.0, 0.2, 0.5, -5.0, -5.0]], np.float32)
    image = mixture(parameters, 2, 1).mean().numpy().ravel()
    assert image[0] * 255 == pytest.approx(89.0)  # 0.35 x 255 = 89.25


@pytest.mark.parametrize(
    "logits, means, log_scales",
    [
        ([0.0, 0.0], [3.0, 0.4], [-5.0, -5.0]),  # a component far above 1: the last bin's
        ([1.0, 0.0], [-2.0, 0.9], [-4.0, -6.0]),  # or far below 0: the first bin's
        ([0.0, 2.0], [0.5, 0.1], [0.0, -2.0]),  # a wide component clipped at both ends
        ([0.0, 0.0], [0.999, 0.001], [-9.0, -9.0]),  # at the floor, near the ends
    ],
)
def test_the_mean_image_is_within_a_level_of_the_binned_mixtures_mean(logits, means, log_scales):
    """Each component's tails are held by the first and last bins, not spread beyond [0, 1]:
    the mean image is within one level of sum_k k P(k), the exact mean of the 256 masses."""
    parameters = np.array([logits + means + log_scales], np.float32)
    values = LEVELS.astype(np.float32)[:, None, None] / 255
    p = np.exp(mixture(np.repeat(parameters, 256, axis=0), 2, 1).log_prob(values).numpy())
    exact = np.sum(LEVELS * p.astype(np.float64))
    assert mixture(parameters, 2, 1).mean().numpy().item() * 255 == pytest.approx(exact, abs=1.0)


def test_at_the_scale_floor_one_level_holds_97_percent_of_a_component():
    """PixelCNN++'s floor measured against the bin (a bin 8.6 scales wide): a model can be
    sure of an interior level, as it can of the open-ended first and last."""
    parameters = np.array([[0.0, 100 / 255, -20.0]], np.float32)  # K = 1 at level 100
    log_p = mixture(parameters, 1, 1).log_prob(np.full((1, 1, 1), 100 / 255, np.float32))
    assert np.exp(log_p.numpy().item()) == pytest.approx(np.tanh(8.6 / 4), abs=1e-3)


def test_a_colour_pixel_is_sampled_channel_after_channel_as_scored():
    """C = 3, K = 2, coefficients moving the later channels: a chi-square of 200,000 draws
    over the cells that hold the distribution's mass."""
    means = [[0.25, 0.3], [0.45, 0.5], [0.75, 0.7]]  # [channel, component]
    log_scales = [[-5.0, -4.5]] * 3
    coefficients = [[1.0, -0.5], [0.5, 0.8], [-1.0, 0.3]]  # pairs (1, 0), (2, 0), (2, 1)
    parameters = np.concatenate([[0.3, -0.2], *means, *log_scales, *coefficients])
    parameters = parameters.astype(np.float32)[None]
    draws = 200_000
    distribution = mixture(np.repeat(parameters, draws, axis=0), 2, 3)
    levels = np.round(distribution.sample(tf.constant([5, 6], tf.int32)).numpy() * 255)
    low, high = np.maximum(levels.min(axis=0) - 3, 0), np.minimum(levels.max(axis=0) + 3, 255)
    cells = np.stack(
        np.meshgrid(*[np.arange(a, b + 1) for a, b in zip(low, high, strict=True)], indexing="ij"),
        -1,
    ).reshape(-1, 3)
    scored = mixture(np.repeat(parameters, len(cells), axis=0), 2, 3)
    p = np.exp(scored.log_prob(cells[:, None, :].astype(np.float32) / 255).numpy())
    assert p.sum() == pytest.approx(1.0, abs=1e-3)  # the cells hold the distribution
    index = {tuple(c): i for i, c in enumerate(cells.astype(int))}
    counts = np.bincount([index[tuple(c)] for c in levels.astype(int)], minlength=len(cells))
    expected = draws * p
    common = expected > 20
    chi2 = np.sum((counts[common] - expected[common]) ** 2 / expected[common])
    assert chi2 < common.sum() + 5 * np.sqrt(2 * common.sum())


@pytest.mark.parametrize("log_scale", [-20.0, 0.0, 50.0, 100.0])
def test_values_and_gradients_are_finite_at_any_scale(log_scale):
    parameters = tf.Variable(
        np.array([[[1.0, 0.0, 0.4, 3.0, log_scale, log_scale]]] * 256, np.float32)
    )
    x = tf.constant(np.arange(256, dtype=np.float32).reshape(256, 1, 1) / 255)
    with tf.GradientTape() as tape:
        log_p = DiscretizedLogisticMixture(parameters, 2, (1,), 1).log_prob(x)
    gradient = tape.gradient(log_p, parameters).numpy()
    assert np.isfinite(log_p.numpy()).all() and np.isfinite(gradient).all()
    assert np.exp(log_p.numpy().astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)


def test_tfps_quantized_logistic_mixture_is_the_same_distribution():
    """benchmarks/logistic_mixture.py's TFP baseline: the same masses on ordinary
    parameters, grey."""
    from benchmarks.logistic_mixture import ours_log_prob, tfp_log_prob

    rng = np.random.default_rng(3)
    parameters = rng.normal(size=(500, 1, 15)).astype(np.float32)
    parameters[..., 10:] -= 3.0  # scales of a few levels to a quarter of the range
    x = tf.constant(rng.integers(0, 256, size=(500, 1)) / 255, tf.float32)
    ours = ours_log_prob(tf.constant(parameters), x, 5).numpy()
    theirs = tfp_log_prob(tf.constant(parameters), x, 5).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_an_image_is_its_pixels_each_scored_and_averaged_alone():
    """Parameters [rows, H, W, P] of colour images: log_prob is the sum of each pixel's own
    log_prob (the one-pixel distributions checked against NumPy above) and mean() is each
    pixel's own mean, in place: no pixel's parameters or values move to another."""
    rng = np.random.default_rng(7)
    components, channels, rows, height, width = 3, 3, 2, 2, 3
    size = (rows, height, width, parameter_count(components, channels))
    parameters = rng.normal(size=size).astype(np.float32)
    x = rng.integers(0, 256, (rows, height, width, channels)).astype(np.float32) / 255
    image = DiscretizedLogisticMixture(
        tf.constant(parameters), components, (height, width, channels), channels
    )
    pixels = [(i, j) for i in range(height) for j in range(width)]
    alone = {p: mixture(parameters[:, p[0], p[1]], components, channels) for p in pixels}
    total = sum(alone[p].log_prob(x[:, p[0], p[1]][:, None, :]).numpy() for p in pixels)
    np.testing.assert_allclose(image.log_prob(x).numpy(), total, rtol=1e-6)
    mean = image.mean().numpy()
    for p in pixels:
        np.testing.assert_array_equal(mean[:, p[0], p[1]], alone[p].mean().numpy())
