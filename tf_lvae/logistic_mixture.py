"""The discretized logistic mixture likelihood of 8-bit images (DMoL; PixelCNN++, Salimans
et al. 2017), with exact bin masses.

A pixel's C channels take the 256 levels x = k / 255 (k = 0..255). Each of K components
puts a logistic(mean, scale) on every channel, bins it into the levels (the bin of level k is
[x - 1/510, x + 1/510], the first and last bins open-ended) and shares its weight across the
pixel's channels. For colour, channel c's mean moves linearly with the channels before it,
mean_c + sum_{j < c} tanh(coefficient_cj) x_j (PixelCNN++). The 256 masses of a channel
therefore sum to exactly 1 for any parameters.

A bin's log mass, with a = (x + 1/510 - mean) / scale and b = (x - 1/510 - mean) / scale,
is log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) + log sigmoid(-b) + log(1 - exp(b - a)):
three terms that are accurate in float32 however tiny the bin's mass (no difference of two
nearly equal CDFs, no approximation by the density), and finite with finite gradients for
any mean and log scale (the last term, which depends on the scale alone, from the log of
the bin width over the scale). The first bin is log sigmoid(a), the last log sigmoid(-b).
docs/method.md §8 states the model; benchmarks/logistic_mixture.py measures this formula
against TFP's QuantizedDistribution.

Shapes at the boundary: parameters [rows, ...] that reshape pixel by pixel to [rows,
pixels, P], P = `parameter_count(K, C)`: [rows, H, W, P] from a convolutional head, [rows,
pixels * P] from a dense one; values [rows, *data_shape]; everything float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import tensorflow as tf

from tf_lvae.constants import EIGHT_BIT_LEVELS as LEVELS

HALF_BIN = 0.5 / (LEVELS - 1)  # half the width of a level's bin on [0, 1]
# PixelCNN++'s floor, e^-7 on data in [-1, 1], on [0, 1]: a scale of 4.6e-4, a bin 8.6
# scales wide, so one level can hold up to 97.3% of a component's mass (e^-7 itself on [0, 1]
# would cap it at 79%)
MIN_LOG_SCALE = -7.0 - math.log(2.0)
_BIN_WIDTH = 2 * HALF_BIN


def parameter_count(components: int, channels: int) -> int:
    """P, the head's outputs per pixel: K logits, and per channel K means and K log scales,
    and K coefficients for each pair of channels (grey: 3K; RGB: 10K)."""
    return components * (1 + 2 * channels + channels * (channels - 1) // 2)


def floored_scale(log_scale: tf.Tensor) -> tf.Tensor:
    """exp(log_scale) with log_scale floored at MIN_LOG_SCALE, the scale every component
    has (same shape)."""
    return tf.exp(tf.maximum(log_scale, MIN_LOG_SCALE))


def levels_of(x: tf.Tensor) -> tf.Tensor:
    """The integer levels k of values x = k / 255, as float32 (same shape)."""
    return tf.round(tf.cast(x, tf.float32) * (LEVELS - 1))


def bin_log_mass(level: tf.Tensor, mean: tf.Tensor, log_scale: tf.Tensor) -> tf.Tensor:
    """log P(k) of level k (float, 0..255) under a logistic(mean, exp(log_scale)) on [0, 1]
    binned into the 256 levels; broadcasts its arguments. Exact in the sense of the module
    docstring; log_scale is floored at MIN_LOG_SCALE."""
    log_scale = tf.maximum(log_scale, MIN_LOG_SCALE)
    inverse_scale = tf.exp(-log_scale)
    centred = level / (LEVELS - 1) - mean
    upper = inverse_scale * (centred + HALF_BIN)
    lower = inverse_scale * (centred - HALF_BIN)
    log_below_upper = -tf.math.softplus(-upper)  # log sigmoid(a)
    log_above_lower = -tf.math.softplus(lower)  # log sigmoid(-b)
    interior = (
        log_below_upper
        + log_above_lower
        + _log_one_minus_exp_minus(math.log(_BIN_WIDTH) - log_scale)
    )
    last = LEVELS - 1
    return tf.where(level <= 0, log_below_upper, tf.where(level >= last, log_above_lower, interior))


class DiscretizedLogisticMixture:
    """p(x | z_1) for 8-bit images: a discretized logistic mixture per pixel, independent
    across pixels.

    Args:
      parameters: the head's outputs, [rows, H, W, P] or [rows, pixels * P] (float32).
      components: K.
      data_shape: one example's shape as the model holds it: (H, W, C) for a convolutional
        model, or (D,) flattened (pixels = D / channels, channels last).
      channels: C.

    `log_prob(x)` is [rows] for x [rows, *data_shape] of levels k / 255; `sample(seed)` and
    `mean()` are [rows, *data_shape] of levels k / 255.
    """

    def __init__(
        self,
        parameters: tf.Tensor,
        components: int,
        data_shape: tuple[int, ...],
        channels: int,
    ):
        self.components = components
        self.channels = channels
        self.data_shape = tuple(data_shape)
        pixels = math.prod(self.data_shape) // channels
        k, c = components, channels
        parameters = tf.reshape(parameters, [-1, pixels, parameter_count(k, c)])
        # Pixels on the last axis, the components on axis 1: the element-wise work and the
        # sum over components run along contiguous pixels (XLA and TF's kernels were both
        # faster so: docs/results/performance.md).
        parameters = tf.transpose(parameters, [0, 2, 1])  # [rows, P, pixels]
        self.logits = parameters[:, :k]  # [rows, K, pixels]
        rest = parameters[:, k:]
        self.means = tf.reshape(rest[:, : c * k], [-1, c, k, pixels])
        self.log_scales = tf.reshape(rest[:, c * k : 2 * c * k], [-1, c, k, pixels])
        pairs = c * (c - 1) // 2
        self.coefficients = tf.reshape(tf.tanh(rest[:, 2 * c * k :]), [-1, pairs, k, pixels])

    def _channels_first(self, x: tf.Tensor) -> tf.Tensor:
        """x [rows, *data_shape] as [rows, C, pixels], float32."""
        rows = tf.shape(self.logits)[0]
        return tf.transpose(
            tf.reshape(tf.cast(x, tf.float32), [rows, -1, self.channels]), [0, 2, 1]
        )

    def _shifted_mean(self, channel: int, values: tf.Tensor | None) -> tf.Tensor:
        """Channel `channel`'s component means [rows, K, pixels] given the values [rows, >=
        channel, pixels] of the channels before it (on [0, 1])."""
        mean = self.means[:, channel]
        first_pair = channel * (channel - 1) // 2  # pairs (1, 0), (2, 0), (2, 1), ...
        for j in range(channel):
            mean += self.coefficients[:, first_pair + j] * values[:, j : j + 1]
        return mean

    def log_prob(self, x: tf.Tensor) -> tf.Tensor:
        """log p(x), summed over the pixels: [rows], for x [rows, *data_shape] of levels."""
        levels = levels_of(self._channels_first(x))  # [rows, C, pixels]
        values = levels / (LEVELS - 1)
        per_component = tf.nn.log_softmax(self.logits, axis=1)
        for c in range(self.channels):
            per_component += bin_log_mass(
                levels[:, c : c + 1], self._shifted_mean(c, values), self.log_scales[:, c]
            )
        if self.components == 1:  # the sum of one: XLA's gradient of it was 4x slower
            return tf.reduce_sum(per_component[:, 0], axis=-1)
        return tf.reduce_sum(tf.reduce_logsumexp(per_component, axis=1), axis=-1)

    def sample(self, seed: tf.Tensor) -> tf.Tensor:
        """A draw of levels k / 255 [rows, *data_shape] with the stateless seed (int32 [2]):
        a component per pixel, then each channel in turn from its binned logistic (its
        uniform draw kept within [1e-5, 1 - 1e-5], so the logistic is cut at 11.5 scales
        from its mean: a mass of 2e-5 moved inwards)."""
        component_seed, *channel_seeds = tf.unstack(
            tf.random.experimental.stateless_split(seed, 1 + self.channels)
        )
        pixel_logits = tf.transpose(self.logits, [0, 2, 1])  # [rows, pixels, K]
        rows_pixels = tf.shape(pixel_logits)[:2]
        flat_logits = tf.reshape(pixel_logits, [-1, self.components])
        chosen = tf.random.stateless_categorical(flat_logits, 1, component_seed)
        one_hot = tf.reshape(tf.one_hot(chosen[:, 0], self.components), tf.shape(pixel_logits))
        one_hot = tf.transpose(one_hot, [0, 2, 1])  # [rows, K, pixels]

        def draw(c: int, previous: tf.Tensor | None) -> tf.Tensor:
            mean = tf.reduce_sum(one_hot * self._shifted_mean(c, previous), 1)
            log_scale = tf.reduce_sum(one_hot * self.log_scales[:, c], 1)
            uniform = tf.random.stateless_uniform(
                rows_pixels, channel_seeds[c], minval=1e-5, maxval=1.0 - 1e-5
            )
            logistic = tf.math.log(uniform) - tf.math.log1p(-uniform)
            return mean + floored_scale(log_scale) * logistic

        return self._channel_by_channel(draw)

    def mean(self) -> tf.Tensor:
        """The level nearest each channel's mixture mean (given the channels before it at
        theirs): a deterministic image [rows, *data_shape] of levels k / 255. A component
        contributes the mean of its logistic clipped to [0, 1], as its first and last bins
        hold its tails: s (softplus(m / s) - softplus((m - 1) / s)), within half a level of
        its binned mean."""
        weights = tf.nn.softmax(self.logits, axis=1)

        def clipped_mean(c: int, previous: tf.Tensor | None) -> tf.Tensor:
            mean = self._shifted_mean(c, previous)
            scale = floored_scale(self.log_scales[:, c])
            clipped = scale * (
                tf.math.softplus(mean / scale) - tf.math.softplus((mean - 1.0) / scale)
            )
            return tf.reduce_sum(weights * clipped, 1)

        return self._channel_by_channel(clipped_mean)

    def _channel_by_channel(
        self, value_of: Callable[[int, tf.Tensor | None], tf.Tensor]
    ) -> tf.Tensor:
        """The image [rows, *data_shape] whose channel c is the level nearest
        value_of(c, the levels of channels 0..c-1 [rows, c, pixels], or None) [rows,
        pixels]."""
        levels = []
        for c in range(self.channels):
            previous = tf.stack(levels, axis=1) if levels else None
            levels.append(_nearest_level(value_of(c, previous)))
        return tf.reshape(tf.stack(levels, axis=-1), [-1, *self.data_shape])


def _log_one_minus_exp_minus(log_t: tf.Tensor) -> tf.Tensor:
    """log(1 - exp(-t)) for t = exp(log_t) (here the bin width over the scale), finite with
    a finite gradient for any log_t: log t where t is below e^-15 (the rest of the series,
    -t/2, is below 2e-7), else the exact expression, evaluated on a value that keeps the
    branch tf.where does not take finite too."""
    small = log_t < -15.0
    exact = tf.math.log(-tf.math.expm1(-tf.exp(tf.where(small, 0.0, log_t))))
    return tf.where(small, log_t, exact)


def _nearest_level(value: tf.Tensor) -> tf.Tensor:
    """value on [0, 1] rounded to the nearest level k / 255, the ends absorbing the rest."""
    return tf.clip_by_value(tf.round(value * (LEVELS - 1)), 0.0, LEVELS - 1.0) / (LEVELS - 1)
