"""The noisy logistic prior in plain TensorFlow: the portable backend's density and rate (chapter 3).

A zero-centred logistic density with scale ``s``, convolved with U(-1/2, 1/2),
has the density p(y) = F(y + 1/2) - F(y - 1/2), F(x) = sigmoid(x / s), in
closed form. At an integer k that is the logistic's mass on (k - 1/2, k + 1/2),
the probability that a latent rounds to k, so one function prices noisy
latents in training and rounded latents at test time. This is the bound
tensorflow-compression's ``NoisyLogistic`` computes; it is written here so the
course runs where that library cannot be installed.

Numerics: p is a difference of two CDF values. Far in either tail both are
close to 0 or both close to 1, and subtracting them would lose every digit.
By symmetry p(y) = p(|y|), and on the right side the difference of survival
functions S(t - 1/2) - S(t + 1/2), both small, is taken in log space:
log p = log S(t - 1/2) + log(1 - exp(log S(t + 1/2) - log S(t - 1/2))).
"""
import math

from ldc._tf import tf


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate near 0 and far below it (Maechler's switch at -log 2)."""
    return tf.where(x > -math.log(2.0), tf.math.log(-tf.math.expm1(x)), tf.math.log1p(-tf.exp(x)))


class NoisyLogistic:
    """Zero-centred logistic densities convolved with U(-1/2, 1/2), one per dimension: the portable
    ``tfc.NoisyLogistic``.

    Args:
      scale: float32 (latent_dims,), the logistic scales (positive).
    """

    def __init__(self, scale):
        self.scale = tf.convert_to_tensor(scale, dtype=tf.float32)

    @property
    def batch_shape(self):
        """The shape of ``scale``: one density per latent dimension."""
        return self.scale.shape

    def log_prob(self, values):
        """Return the natural log of the noisy density at ``values`` (..., latent_dims), float32 of the same shape."""
        t = tf.abs(tf.convert_to_tensor(values, dtype=tf.float32))
        log_upper = tf.math.log_sigmoid((0.5 - t) / self.scale)  # log S(t - 1/2)
        log_lower = tf.math.log_sigmoid((-0.5 - t) / self.scale)  # log S(t + 1/2)
        return log_upper + _log1mexp(log_lower - log_upper)

    def prob(self, values):
        """Return the noisy density at ``values`` (..., latent_dims); at an integer, the probability of rounding to
        it."""
        return tf.exp(self.log_prob(values))


def distribution(scale):
    """Return :class:`NoisyLogistic` with the given scales (latent_dims,), as ``tfc.NoisyLogistic(0, scale)`` would
    be."""
    return NoisyLogistic(scale)


def rate(prior_distribution, latents, training):
    """Return ``(latents_hat, bits)``: noisy latents and a differentiable bound, or rounded ones and their information.

    ``latents`` float (batch, latent_dims). ``training=True`` adds U(-1/2, 1/2)
    noise; ``False`` rounds to the nearest integer (half to even, as
    ``tf.round``). ``bits`` (batch,) is -log2 of the density summed over the
    dimensions, in bits per digit.
    """
    latents = tf.convert_to_tensor(latents, dtype=tf.float32)
    if training:
        latents_hat = latents + tf.random.uniform(tf.shape(latents), -0.5, 0.5)
    else:
        latents_hat = tf.round(latents)
    bits = tf.reduce_sum(prior_distribution.log_prob(latents_hat), axis=-1) / -math.log(2.0)
    return latents_hat, bits
