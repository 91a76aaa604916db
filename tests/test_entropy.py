import os

import numpy as np
import pytest

import ldc
from ldc._tf import tf


def _prior(log_scales):
    prior = ldc.LogisticPrior(len(log_scales))
    prior.log_scales.assign(np.asarray(log_scales, np.float32))
    return prior


def _noisy_logistic_bits(values, scales):
    """-log2 of P(value - 1/2 < Y < value + 1/2) for zero-centred logistics, summed per row (numpy reference)."""
    cdf = lambda v: 1.0 / (1.0 + np.exp(-v / scales))  # noqa: E731
    return -np.log2(cdf(values + 0.5) - cdf(values - 0.5)).sum(axis=-1)


def test_log_scales_are_a_tracked_trainable_weight():
    # Made with add_weight: Keras 3 would silently never train a bare tf.Variable attribute.
    model = ldc.CompressionModel(latent_dims=5)
    assert any(v is model.prior.log_scales for v in model.trainable_variables)
    assert model.prior.log_scales.shape == (5,)


def test_quantized_rate_is_the_exact_information_content():
    prior = _prior([-1.0, 0.0, 0.5, 1.0])
    y = np.random.default_rng(0).normal(scale=3.0, size=(100, 4)).astype(np.float32)
    y_hat, bits = prior(y, training=False)
    np.testing.assert_array_equal(y_hat, np.round(y))
    np.testing.assert_allclose(bits, _noisy_logistic_bits(np.round(y).astype(np.float64), np.exp([-1.0, 0.0, 0.5, 1.0])),
                               rtol=1e-4)


def test_training_adds_uniform_noise_and_bounds_the_rate():
    prior = _prior([0.0] * 6)
    y = np.random.default_rng(1).normal(scale=2.0, size=(2000, 6)).astype(np.float32)
    y_tilde, bits = prior(y, training=True)
    noise = y_tilde.numpy() - y
    assert noise.min() >= -0.5 and noise.max() <= 0.5
    assert abs(noise.mean()) < 0.02 and abs(noise.var() - 1 / 12) < 0.005  # uniform on (-1/2, 1/2)
    np.testing.assert_allclose(bits, _noisy_logistic_bits(y_tilde.numpy().astype(np.float64), np.ones(6)), rtol=1e-4)


def test_gradients_reach_the_scales_and_the_latents():
    prior = _prior([0.0, 0.0, 0.0])
    y = tf.Variable(np.random.default_rng(2).normal(size=(32, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        _, bits = prior(y, training=True)
        loss = tf.reduce_mean(bits)
    grads = tape.gradient(loss, [prior.log_scales, y])
    assert all(g is not None and np.all(np.isfinite(g)) and np.any(g.numpy() != 0) for g in grads)


def test_rate_works_inside_tf_function():
    prior = _prior([0.3, -0.2])
    y = np.random.default_rng(3).normal(size=(10, 2)).astype(np.float32)
    eager = prior(y, training=False)[1]
    graph = tf.function(lambda v: prior(v, training=False)[1])(tf.constant(y))
    np.testing.assert_allclose(eager, graph, rtol=1e-6)


def test_density_integrates_to_one():
    prior = _prior([-2.0, 0.0, 1.0])
    values = np.linspace(-40, 40, 80001)
    density = prior.density(values).numpy()
    assert density.shape == (80001, 3)
    np.testing.assert_allclose(density.sum(axis=0) * (values[1] - values[0]), 1.0, atol=1e-3)


def test_compression_is_consistent_with_quantization():
    prior = _prior(np.linspace(-1.5, 2.0, 7))
    coder = ldc.RangeCoder(ldc.prior_tables(prior))
    rng = np.random.default_rng(4)
    # Mostly typical values, plus some far outside the tables' range (they take the escape code).
    y = rng.normal(scale=4.0, size=(300, 7)).astype(np.float32)
    y[::17, 3] = rng.uniform(-500, 500, size=len(y[::17]))
    strings = coder.compress(y)
    assert len(strings) == 300 and all(isinstance(s, bytes) for s in strings)
    np.testing.assert_array_equal(coder.decompress(strings, (7,)), np.round(y))


def test_real_bits_track_the_information_content():
    prior = _prior(np.linspace(-0.5, 2.5, 20))
    coder = ldc.RangeCoder(ldc.prior_tables(prior))
    scales = np.exp(np.linspace(-0.5, 2.5, 20))
    y = np.random.default_rng(5).logistic(scale=scales, size=(2000, 20)).astype(np.float32)
    real = ldc.string_bits(coder.compress(y))
    information = prior(y, training=False)[1].numpy()
    # Every string is within about a byte of its information content (lengths are whole bytes,
    # and the coder's integer probabilities and final flush cost a few bits), and on average
    # the overhead is small.
    difference = real - information
    assert difference.min() > -8 and difference.max() < 16
    assert 0 <= difference.mean() < 0.05 * information.mean() + 4


def test_decode_random_bits_is_possible_without_the_sanity_check():
    coder = ldc.RangeCoder(ldc.prior_tables(_prior([0.0] * 5)), decode_sanity_check=False)
    payloads = [os.urandom(n) for n in (0, 1, 4, 8, 32)]
    decoded = coder.decompress(payloads, (5,))
    assert decoded.shape == (5, 5) and np.all(np.isfinite(decoded))
    assert np.all(decoded == np.round(decoded))


def test_coding_rank_two_round_trips_integer_blocks():
    pmfs = np.array([[0.1, 0.2, 0.4, 0.2, 0.1], [0.5, 0.5, 0, 0, 0], [0.2] * 5])
    coder = ldc.RangeCoder(ldc.pmf_tables(pmfs * 0.999, offsets=[-2, 0, 10]), coding_rank=2)
    values = np.random.default_rng(6).integers(-3, 15, size=(40, 4, 3))  # includes values outside every table
    strings = coder.compress(values)
    np.testing.assert_array_equal(coder.decompress(strings, (4, 3)), values)


@pytest.mark.parametrize("pmfs, offsets, message", [
    (np.ones((2, 3)), [0, 0], "summing to at most 1"),
    (np.full((2, 3), np.nan), [0, 0], "finite"),
    (np.full((2, 3), 0.1), [0], "expected"),
])
def test_pmf_tables_reject_bad_probabilities(pmfs, offsets, message):
    with pytest.raises(ValueError, match=message):
        ldc.pmf_tables(pmfs, offsets)


def test_compress_checks_the_channel_count_and_finiteness():
    coder = ldc.RangeCoder(ldc.prior_tables(_prior([0.0] * 3)))
    with pytest.raises(ldc.InputError, match="3 channels"):
        coder.compress(np.zeros((2, 4)))
    with pytest.raises(ldc.InputError, match="NaN"):
        coder.compress(np.array([[0.0, np.nan, 1.0]]))


def test_coding_tables_check_their_layout():
    tables = ldc.prior_tables(_prior([0.0] * 3))
    with pytest.raises(ValueError, match="3 CDFs but 2 offsets"):
        ldc.CodingTables(tables.cdf, tables.cdf_offset[:2])
    with pytest.raises(ValueError, match="-precision"):
        ldc.CodingTables(np.abs(tables.cdf), tables.cdf_offset)
