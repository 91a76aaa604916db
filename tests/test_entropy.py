"""The prior, its rate and the range coders, on both entropy backends; the integer tables; the backends
cross-checked."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ldc
from ldc import tables as ldc_tables
from ldc._tf import tf
from ldc.range_coding import StreamCoder, StringCoder
from tests.conftest import require_tfc


def _prior(log_scales):
    prior = ldc.LogisticPrior(len(log_scales))
    prior.log_scales.assign(np.asarray(log_scales, np.float32))
    return prior


def _noisy_logistic_bits(values, scales):
    """-log2 of P(value - 1/2 < Y < value + 1/2) for zero-centred logistics, summed per row (float64 reference)."""
    cdf = lambda v: 1.0 / (1.0 + np.exp(-v / scales))  # noqa: E731
    return -np.log2(cdf(values + 0.5) - cdf(values - 0.5)).sum(axis=-1)


def test_log_scales_are_a_tracked_trainable_weight(backend):
    # Made with add_weight: Keras 3 would silently never train a bare tf.Variable attribute.
    model = ldc.CompressionModel(latent_dims=5)
    assert model.prior.backend == backend
    assert any(v is model.prior.log_scales for v in model.trainable_variables)
    assert model.prior.log_scales.shape == (5,)


def test_quantized_rate_is_the_exact_information_content(backend):
    prior = _prior([-1.0, 0.0, 0.5, 1.0])
    y = np.random.default_rng(0).normal(scale=3.0, size=(100, 4)).astype(np.float32)
    y_hat, bits = prior(y, training=False)
    np.testing.assert_array_equal(y_hat, np.round(y))
    np.testing.assert_allclose(bits,
                               _noisy_logistic_bits(np.round(y).astype(np.float64), np.exp([-1.0, 0.0, 0.5, 1.0])),
                               rtol=1e-4)


def test_training_adds_uniform_noise_and_bounds_the_rate(backend):
    prior = _prior([0.0] * 6)
    y = np.random.default_rng(1).normal(scale=2.0, size=(2000, 6)).astype(np.float32)
    y_tilde, bits = prior(y, training=True)
    noise = y_tilde.numpy() - y
    assert noise.min() >= -0.5 and noise.max() <= 0.5
    assert abs(noise.mean()) < 0.02 and abs(noise.var() - 1 / 12) < 0.005  # uniform on (-1/2, 1/2)
    np.testing.assert_allclose(bits, _noisy_logistic_bits(y_tilde.numpy().astype(np.float64), np.ones(6)), rtol=1e-4)


def test_gradients_reach_the_scales_and_the_latents(backend):
    prior = _prior([0.0, 0.0, 0.0])
    y = tf.Variable(np.random.default_rng(2).normal(size=(32, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        _, bits = prior(y, training=True)
        loss = tf.reduce_mean(bits)
    grads = tape.gradient(loss, [prior.log_scales, y])
    assert all(g is not None and np.all(np.isfinite(g)) and np.any(g.numpy() != 0) for g in grads)


def test_rate_works_inside_tf_function(backend):
    prior = _prior([0.3, -0.2])
    y = np.random.default_rng(3).normal(size=(10, 2)).astype(np.float32)
    eager = prior(y, training=False)[1]
    graph = tf.function(lambda v: prior(v, training=False)[1])(tf.constant(y))
    np.testing.assert_allclose(eager, graph, rtol=1e-6)


def test_density_integrates_to_one(backend):
    prior = _prior([-2.0, 0.0, 1.0])
    values = np.linspace(-40, 40, 80001)
    density = prior.density(values).numpy()
    assert density.shape == (80001, 3)
    np.testing.assert_allclose(density.sum(axis=0) * (values[1] - values[0]), 1.0, atol=1e-3)


def test_portable_log_prob_is_accurate_far_in_both_tails_and_its_gradient_finite():
    scales = np.array([0.01, 0.3, 1.0, 20.0], np.float32)
    distribution = ldc.logistic.NoisyLogistic(scales)
    y = np.array([-300.0, -40.0, -3.0, -0.5, 0.0, 0.49, 2.0, 40.0, 300.0], np.float32)[:, None] * np.ones(4, np.float32)
    got = distribution.log_prob(y).numpy()
    # float64 reference, taken on the side where both CDF values are small
    t, s = np.abs(y.astype(np.float64)), scales.astype(np.float64)
    log_upper = -np.logaddexp(0, (t - 0.5) / s)
    log_lower = -np.logaddexp(0, (t + 0.5) / s)
    reference = log_upper + np.log(-np.expm1(log_lower - log_upper))
    finite = np.isfinite(reference)
    assert np.all(np.isfinite(got[finite]))
    np.testing.assert_allclose(got[finite], reference[finite], rtol=1e-5, atol=1e-5)
    variable = tf.Variable(y)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(ldc.logistic.NoisyLogistic(scales).log_prob(variable))
    assert np.all(np.isfinite(tape.gradient(total, variable).numpy()))


# --- the integer tables -------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=300).filter(lambda p: sum(p) > 0))
def test_quantized_counts_are_positive_sum_to_the_precision_and_follow_the_probabilities(pmf):
    counts = ldc_tables.quantize_pmf(pmf)
    assert counts.sum() == 2 ** ldc_tables.PRECISION and counts.min() >= 1
    np.testing.assert_array_equal(counts, ldc_tables.quantize_pmf(list(pmf)))  # deterministic
    p = np.asarray(pmf) / sum(pmf)
    # Each count is within two of its share of the counts not given away for free.
    assert np.all(np.abs(counts - 1 - p * (2 ** ldc_tables.PRECISION - len(p))) <= 2)


def test_prior_tables_cover_the_prior_and_cost_almost_nothing_extra():
    log_scales = np.linspace(-4.0, 3.0, 12)
    tables = ldc_tables.prior_tables(log_scales)
    assert tables.channels == 12 and np.all(tables.offsets <= 0)
    # The narrowest prior is a spike at 0: its table is {0} and the escape.
    assert tables.sizes[0] == 2 and tables.offsets[0] == 0
    scales = np.exp(log_scales)
    y = np.round(np.random.default_rng(7).logistic(scale=scales, size=(20000, 12)))
    ideal = _noisy_logistic_bits(y, scales)
    inside = np.all(tables.symbols(y) != tables.sizes - 1, axis=1)
    assert inside.mean() > 0.999  # values outside the tables are rare
    extra = tables.bits(y[inside]) - ideal[inside]
    assert 0 <= extra.mean() < 0.01  # integer counts cost under a hundredth of a bit per digit


def test_tables_check_their_layout():
    tables = ldc_tables.prior_tables(np.zeros(3))
    bad = tables.counts.copy()
    bad[0, 0] += 1
    with pytest.raises(ValueError, match="sum of 2"):
        ldc.CodingTables(bad, tables.offsets, tables.sizes)
    with pytest.raises(ValueError, match="one table per channel"):
        ldc.CodingTables(tables.counts, tables.offsets[:2], tables.sizes)
    zero = tables.counts.copy()
    zero[1, 0], zero[1, 1] = 0, zero[1, 1] + zero[1, 0]
    with pytest.raises(ValueError, match="counts >= 1"):
        ldc.CodingTables(zero, tables.offsets, tables.sizes)


@pytest.mark.parametrize("pmfs, offsets, message", [
    ([np.ones(3)] * 2, [0, 0], "summing to at most 1"),
    ([np.full(3, np.nan)] * 2, [0, 0], "finite"),
    ([np.full(3, 0.1)] * 2, [0], "one offset per row"),
    ([np.zeros(0)], [0], "rows of 1"),
])
def test_pmf_tables_reject_bad_probabilities(pmfs, offsets, message):
    with pytest.raises(ValueError, match=message):
        ldc.pmf_tables(pmfs, offsets)


# --- the range coders ---------------------------------------------------------------------------------------

def test_compression_is_consistent_with_quantization(backend):
    coder = ldc.RangeCoder(ldc.prior_tables(_prior(np.linspace(-1.5, 2.0, 7))))
    assert coder.backend == backend
    rng = np.random.default_rng(4)
    # Mostly typical values, plus some far outside the tables' range (they take the escape code).
    y = rng.normal(scale=4.0, size=(300, 7)).astype(np.float32)
    y[::17, 3] = rng.uniform(-500, 500, size=len(y[::17]))
    y[5, 0], y[6, 6] = 2.0 ** 24, -2.0 ** 24  # the largest values either coder takes
    strings = coder.compress(y)
    assert len(strings) == 300 and all(isinstance(s, bytes) for s in strings)
    np.testing.assert_array_equal(coder.decompress(strings, (7,)), np.round(y))


@pytest.mark.parametrize("coder, unit, slack", [
    pytest.param("tfc", 8, (-16, 16), marks=pytest.mark.tfc),  # whole bytes
    ("portable", 8, (-16, 16)),  # whole bytes too: constriction's words cut to the bytes that decode the same
])
def test_real_bits_track_the_information_content(coder, unit, slack):
    if coder == "tfc":
        require_tfc()
    prior = _prior(np.linspace(-0.5, 2.5, 20))
    scales = np.exp(np.linspace(-0.5, 2.5, 20))
    y = np.random.default_rng(5).logistic(scale=scales, size=(2000, 20)).astype(np.float32)
    real = ldc.string_bits(ldc.RangeCoder(ldc.prior_tables(prior), backend=coder).compress(y))
    information = _noisy_logistic_bits(np.round(y).astype(np.float64), scales)
    assert np.all(real % unit == 0)
    difference = real - information
    print(f"\n{coder}: strings {difference.mean():+.2f} bits over the information content on average "
          f"({difference.min():+.1f} to {difference.max():+.1f})")
    assert slack[0] < difference.min() and difference.max() < slack[1]
    assert 0 <= difference.mean() < 8  # the goal for both coders: at most a byte over, on average


def test_one_stream_approaches_the_information_content():
    scales = np.exp(np.linspace(-3.0, 2.5, 30))
    tables = ldc_tables.prior_tables(np.log(scales))
    y = np.round(np.random.default_rng(6).logistic(scale=scales, size=(5000, 30)))
    data = StreamCoder(tables).encode(y)
    information = _noisy_logistic_bits(y, scales).sum()
    assert 8 * len(data) <= 1.001 * information + 64
    np.testing.assert_array_equal(StreamCoder(tables).decode(data, 5000, (30,)), y)


@pytest.mark.parametrize("rank, shape", [(1, (200, 5)), (2, (40, 4, 5))])
def test_stream_round_trips_escapes_at_every_magnitude(rank, shape):
    tables = ldc_tables.prior_tables(np.linspace(-2.0, 1.0, 5))
    rng = np.random.default_rng(8)
    values = rng.integers(-3, 4, size=shape)
    flat = values.reshape(-1)
    magnitudes = 2 ** rng.integers(0, 25, size=len(flat[::7]))
    flat[::7] = magnitudes * rng.choice([-1, 1], size=len(magnitudes))
    coder = StreamCoder(tables, coding_rank=rank)
    decoded = coder.decode(coder.encode(values), shape[0], shape[1:])
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, values)


def test_stream_bytes_depend_only_on_the_tables_and_values():
    tables = ldc_tables.prior_tables(np.zeros(4))
    values = np.random.default_rng(9).integers(-5, 6, size=(100, 4))
    assert StreamCoder(tables).encode(values) == StreamCoder(tables).encode(values.astype(np.float32))
    other = ldc_tables.prior_tables(np.full(4, 0.5))
    assert StreamCoder(tables).encode(values) != StreamCoder(other).encode(values)


def test_decode_random_bits_is_possible(backend):
    coder = ldc.RangeCoder(ldc.prior_tables(_prior([0.0] * 5)), decode_sanity_check=False)
    payloads = [os.urandom(n) for n in (0, 1, 3, 8)]
    decoded = coder.decompress(payloads, (5,))
    assert decoded.shape == (4, 5) and decoded.dtype == np.int32


def test_coding_rank_two_round_trips_integer_blocks(backend):
    pmfs = [np.array([0.1, 0.2, 0.4, 0.2, 0.1]) * 0.999, np.array([0.5, 0.499]), np.full(5, 0.1998)]
    coder = ldc.RangeCoder(ldc.pmf_tables(pmfs, offsets=[-2, 0, 10]), coding_rank=2)
    values = np.random.default_rng(6).integers(-3, 15, size=(40, 4, 3))  # includes values outside every table
    strings = coder.compress(values)
    np.testing.assert_array_equal(coder.decompress(strings, (4, 3)), values)


def test_compress_checks_the_channel_count_finiteness_and_range(backend):
    coder = ldc.RangeCoder(ldc.prior_tables(_prior([0.0] * 3)))
    with pytest.raises(ldc.InputError, match="3 channels"):
        coder.compress(np.zeros((2, 4)))
    with pytest.raises(ldc.InputError, match="NaN"):
        coder.compress(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ldc.InputError, match="2\\*\\*24"):
        coder.compress(np.array([[0.0, 2.0 ** 24 + 2, 1.0]]))
    assert coder.compress(np.zeros((0, 3))) == []


def test_portable_strings_read_a_partial_word_as_if_padded_with_zeros():
    coder = StringCoder(ldc_tables.prior_tables(np.zeros(3)))
    np.testing.assert_array_equal(coder.decompress([b"abc"], (3,)), coder.decompress([b"abc\x00"], (3,)))


# --- the two backends, cross-checked (the pinned stack) -----------------------------------------------------

@pytest.mark.tfc
def test_both_backends_give_the_same_rates_to_a_thousandth_of_a_bit():
    require_tfc()
    rng = np.random.default_rng(10)
    log_scales = rng.uniform(-4.0, 3.0, size=50).astype(np.float32)
    y = (rng.logistic(size=(500, 50)) * np.exp(log_scales) * 1.3).astype(np.float32)
    noisy = y + rng.uniform(-0.5, 0.5, size=y.shape).astype(np.float32)
    rates = {}
    for name in ("tfc", "portable"):
        prior = ldc.LogisticPrior(50, backend=name)
        prior.log_scales.assign(log_scales)
        distribution = prior.distribution()
        training = -tf.reduce_sum(distribution.log_prob(noisy), axis=-1).numpy() / np.log(2)
        rates[name] = (training, prior(y, training=False)[1].numpy())
    for tfc_bits, portable_bits in zip(rates["tfc"], rates["portable"]):
        assert np.max(np.abs(tfc_bits - portable_bits)) < 1e-3


@pytest.mark.tfc
def test_both_coders_round_trip_the_same_integers_with_the_same_tables():
    require_tfc()
    tables = ldc_tables.prior_tables(np.linspace(-3.0, 2.0, 10))
    values = np.round(np.random.default_rng(11).logistic(scale=4.0, size=(300, 10)))
    values[::13, 4] = 7000  # outside its table: each coder's own escape
    for name in ("tfc", "portable"):
        coder = ldc.RangeCoder(tables, backend=name)
        np.testing.assert_array_equal(coder.decompress(coder.compress(values), (10,)), values)
