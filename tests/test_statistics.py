"""The comparison statistics: known values, invariances and the errors they raise."""
import math

import numpy as np
import pytest

from ldc import statistics as st
from ldc.errors import InputError


def test_bd_rate_of_a_curve_scaled_in_rate_is_the_scale():
    distortion = np.array([0.02, 0.04, 0.06, 0.09])
    rates = np.array([120.0, 70.0, 45.0, 30.0])
    assert st.bd_rate((rates, distortion), (0.8 * rates, distortion)) == pytest.approx(-20.0, abs=1e-9)
    assert st.bd_rate((rates, distortion), (rates, distortion)) == pytest.approx(0.0, abs=1e-12)


def test_bd_rate_uses_only_the_shared_range_and_is_antisymmetric():
    d = np.linspace(1.0, 5.0, 6)
    ref = (np.exp(5 - d), d)
    test = (np.exp(5 - d[2:]) * 2.0, d[2:])  # twice the rate, on part of the range only
    assert st.bd_rate(ref, test) == pytest.approx(100.0, rel=1e-9)
    forward, backward = st.bd_rate(ref, test), st.bd_rate(test, ref)
    assert (1 + forward / 100) * (1 + backward / 100) == pytest.approx(1.0)
    assert st.shared_range(ref, test) == (d[2], d[-1])


def test_bd_rate_over_a_given_range_averages_only_there():
    d = np.linspace(1.0, 5.0, 9)
    ref = (np.exp(5 - d), d)
    # Twice the rate below distortion 3, the same rate above (PCHIP bends only next to the step).
    test = (np.exp(5 - d) * np.where(d < 3, 2.0, 1.0), d)
    assert st.bd_rate(ref, test, over=(3.5, 5.0)) == pytest.approx(0.0, abs=1e-9)
    assert st.bd_rate(ref, test, over=(1.0, 2.0)) == pytest.approx(100.0, rel=1e-9)
    assert 0 < st.bd_rate(ref, test) < 100
    with pytest.raises(InputError, match="inside the range both curves cover"):
        st.bd_rate(ref, test, over=(0.5, 3.0))
    with pytest.raises(InputError, match="inside the range both curves cover"):
        st.bd_rate(ref, test, over=(4.0, 3.0))


def test_bd_rate_refuses_curves_that_do_not_overlap_or_are_malformed():
    with pytest.raises(InputError, match="share no distortion range"):
        st.bd_rate(([10, 5], [0.1, 0.2]), ([10, 5], [0.3, 0.4]))
    with pytest.raises(InputError, match="positive"):
        st.bd_rate(([10, 0], [0.1, 0.2]), ([10, 5], [0.1, 0.2]))
    with pytest.raises(InputError, match="share a distortion"):
        st.bd_rate(([10, 5], [0.1, 0.1]), ([10, 5], [0.1, 0.2]))


def test_wilson_interval_known_value_and_coverage_of_extremes():
    low, high = st.wilson_interval(81, 100)  # the textbook example: 0.7222..0.8749
    assert low == pytest.approx(0.7222, abs=1e-4) and high == pytest.approx(0.8749, abs=1e-4)
    low, high = st.wilson_interval(0, 50)
    assert low == pytest.approx(0.0, abs=1e-12) and 0.05 < high < 0.1
    with pytest.raises(InputError):
        st.wilson_interval(11, 10)


def test_mcnemar_counts_discordant_items_and_matches_the_binomial_test():
    a = np.array([True] * 30 + [False] * 10 + [True] * 60)
    b = np.array([False] * 30 + [True] * 10 + [True] * 60)
    b_only_a, c_only_b, p = st.mcnemar(a, b)
    assert (b_only_a, c_only_b) == (30, 10)
    # two-sided exact binomial: 2 * P(X <= 10 | n=40, 1/2)
    expected = 2 * sum(math.comb(40, k) for k in range(11)) / 2 ** 40
    assert p == pytest.approx(expected, rel=1e-9)
    assert st.mcnemar(a, a)[2] == 1.0


def test_mutual_information_of_perfect_independent_and_partial_confusions():
    assert st.mutual_information(np.eye(10) * 100) == pytest.approx(math.log2(10))
    assert st.mutual_information(np.ones((10, 10))) == pytest.approx(0.0, abs=1e-12)
    labels = np.repeat(np.arange(10), 100)
    predictions = labels.copy()
    predictions[::2] = (labels[::2] + 1) % 10  # half the digits read as the next class
    counts = st.confusion_matrix(labels, predictions)
    assert counts.sum() == 1000 and np.trace(counts) == 500
    assert st.mutual_information(counts) == pytest.approx(math.log2(10) - 1.0)


def test_fano_bound_is_zero_at_chance_full_at_certainty_and_below_the_information_shown():
    assert st.fano_min_bits(0.1) == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < st.fano_min_bits(0.05) < 0.1  # below chance the bound rises again
    assert st.fano_min_bits(1.0) == pytest.approx(math.log2(10))
    values = [st.fano_min_bits(a) for a in np.linspace(0.1, 1.0, 50)]
    assert np.all(np.diff(values) > 0)
    # the half-right confusion above shows log2(10) - 1 bits, at least what Fano asks for accuracy 0.5
    assert st.fano_min_bits(0.5) <= math.log2(10) - 1.0
    assert st.fano_min_bits(0.5) == pytest.approx(math.log2(10) - 1.0 - 0.5 * math.log2(9))


def test_gaussian_total_correlation_matches_the_closed_form():
    rng = np.random.default_rng(0)
    rho = 0.8
    cov = np.array([[1.0, rho], [rho, 1.0]])
    samples = rng.multivariate_normal([0, 0], cov, size=200_000)
    expected = -0.5 * math.log2(1 - rho ** 2)
    assert st.gaussian_total_correlation(samples) == pytest.approx(expected, rel=0.02)
    independent = rng.normal(size=(200_000, 3))
    assert st.gaussian_total_correlation(independent) < 1e-3
    constant_column = np.concatenate([samples, np.zeros((len(samples), 1))], axis=1)
    assert st.gaussian_total_correlation(constant_column) == pytest.approx(st.gaussian_total_correlation(samples))
