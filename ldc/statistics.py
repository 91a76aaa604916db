"""Comparing codecs and classifiers honestly: equal-distortion rates, intervals, label information (chapters 4, 6, 7).

- :func:`bd_rate`: Bjøntegaard's average rate difference between two rate–distortion
  curves over the distortion range they share (monotone cubic interpolation of log-rate).
- :func:`wilson_interval` and :func:`mcnemar`: an accuracy's confidence interval, and
  whether two classifiers scored on the same digits differ by more than chance.
- :func:`mutual_information` and :func:`fano_min_bits`: how many bits about the label
  a confusion matrix shows, and the fewest bits any code needs for a given accuracy.
- :func:`gaussian_total_correlation`: the bits a per-dimension prior wastes on
  linearly correlated latents, under a Gaussian model of them.
"""
import math

import numpy as np
from scipy import interpolate, stats

from ldc.errors import InputError


def _curve(name, rates, distortions):
    rates, distortions = np.asarray(rates, np.float64), np.asarray(distortions, np.float64)
    if rates.shape != distortions.shape or rates.ndim != 1 or len(rates) < 2:
        raise InputError(f"{name}: expected two 1-D sequences of equal length (at least 2 points), "
                         f"got {rates.shape} and {distortions.shape}")
    if not (np.all(np.isfinite(rates)) and np.all(np.isfinite(distortions))) or rates.min() <= 0:
        raise InputError(f"{name}: rates must be positive and finite, distortions finite")
    order = np.argsort(distortions)
    distortions, log_rates = distortions[order], np.log(rates[order])
    if np.any(np.diff(distortions) == 0):
        raise InputError(f"{name}: two points share a distortion; a curve needs one rate per distortion")
    return distortions, log_rates


def bd_rate(reference, test, lower_is_better=True, over=None):
    """Return the test curve's average rate difference against the reference, in percent, over their shared
    distortion range, or over ``over = (low, high)``, which both curves must cover (so that several
    BD-rates against one reference are averages over the same range and can be compared).

    Each curve is ``(rates, distortions)``: positive rates (bits) and distortions
    (e.g. MAE; pass ``lower_is_better=False`` for PSNR, where higher is better).
    Log-rate is interpolated as a monotone cubic (PCHIP) function of distortion
    and averaged over the range both curves cover; the result is
    ``100 * (exp(mean log-rate difference) - 1)``: negative means the test curve
    needs fewer bits for the same distortion. Raises InputError when the ranges
    do not overlap.
    """
    ref_d, ref_r = _curve("reference", *reference)
    test_d, test_r = _curve("test", *test)
    low, high = max(ref_d[0], test_d[0]), min(ref_d[-1], test_d[-1])
    if not low < high:
        raise InputError(f"the curves share no distortion range (reference {ref_d[0]:g}..{ref_d[-1]:g}, "
                         f"test {test_d[0]:g}..{test_d[-1]:g})")
    if over is not None:
        wanted = tuple(float(x) for x in over)
        if not (len(wanted) == 2 and low <= wanted[0] < wanted[1] <= high):
            raise InputError(f"over={over}: expected (low, high) inside the range both curves cover, "
                             f"{low:g}..{high:g}")
        low, high = wanted
    grid = np.linspace(low, high, 1001)
    difference = (interpolate.PchipInterpolator(test_d, test_r)(grid)
                  - interpolate.PchipInterpolator(ref_d, ref_r)(grid))
    mean = float((difference[:-1] + difference[1:]).sum() / 2 / (len(grid) - 1))  # trapezoid rule on the grid
    return 100.0 * math.expm1(mean)


def shared_range(*curves):
    """Return ``(low, high)``: the distortion range every ``(rates, distortions)`` curve covers."""
    ranges = [_curve(f"curve {i}", *c)[0] for i, c in enumerate(curves)]
    return max(r[0] for r in ranges), min(r[-1] for r in ranges)


def wilson_interval(correct, total, confidence=0.95):
    """Return the Wilson score interval ``(low, high)`` for an accuracy of ``correct`` out of ``total``."""
    if not (0 <= correct <= total) or total <= 0:
        raise InputError(f"wilson_interval: need 0 <= correct <= total and total > 0, got {correct} of {total}")
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return centre - half, centre + half


def mcnemar(right_a, right_b):
    """Return ``(b, c, p_value)`` of McNemar's exact test for two classifiers scored on the same items.

    ``right_a`` and ``right_b`` are booleans per item (was each right?); ``b``
    counts items only A got right, ``c`` those only B got right, and the
    two-sided p-value is the binomial test of ``b`` against ``b + c`` at 1/2.
    """
    right_a, right_b = np.asarray(right_a, bool), np.asarray(right_b, bool)
    if right_a.shape != right_b.shape or right_a.ndim != 1:
        raise InputError(f"mcnemar: expected two 1-D boolean arrays of equal length, "
                         f"got {right_a.shape} and {right_b.shape}")
    b, c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    p_value = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return b, c, p_value


def confusion_matrix(labels, predictions, classes=10):
    """Return the (classes, classes) int64 counts: row = true label, column = prediction."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise InputError(f"confusion_matrix: expected two 1-D arrays of equal length, "
                         f"got {labels.shape} and {predictions.shape}")
    if labels.size and (min(labels.min(), predictions.min()) < 0 or max(labels.max(), predictions.max()) >= classes):
        raise InputError(f"confusion_matrix: labels and predictions must lie in 0..{classes - 1}")
    counts = np.zeros((classes, classes), np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def mutual_information(counts):
    """Return the mutual information in bits between rows and columns of a confusion matrix of counts (plug-in
    estimate)."""
    counts = np.asarray(counts, np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.min() < 0 or counts.sum() <= 0:
        raise InputError("mutual_information: expected a square matrix of non-negative counts, not all zero")
    joint = counts / counts.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float(np.sum(joint[nonzero] * np.log2(joint[nonzero] / outer[nonzero])))


def _binary_entropy(p):
    return 0.0 if p <= 0 or p >= 1 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def fano_min_bits(accuracy, classes=10):
    """Return the fewest bits of information about a uniform label any code must keep to be read with this accuracy.

    Fano's inequality: H(Y | Ŷ) <= h(e) + e log2(classes - 1) for the error
    rate e = 1 - accuracy, so I(Y; Ŷ) >= log2(classes) - h(e) - e log2(classes - 1),
    and by the data-processing inequality the code carries at least as much.
    Zero at chance accuracy (1/classes); below chance it rises again (being
    wrong on purpose also takes information about the label).
    """
    if not 0.0 <= accuracy <= 1.0 or classes < 2:
        raise InputError(f"fano_min_bits: need an accuracy in [0, 1] and at least 2 classes, got {accuracy}, {classes}")
    error = 1.0 - accuracy
    return max(0.0, math.log2(classes) - _binary_entropy(error) - error * math.log2(classes - 1))


def gaussian_total_correlation(latents):
    """Return the total correlation in bits of latents (N, dims) under a Gaussian model: -1/2 log2 det R.

    R is the correlation matrix of the dimensions that vary (constant ones carry
    no information and are dropped). It is the number of bits per vector that a
    prior coding each dimension alone would save by modelling their linear
    dependence, were the latents jointly Gaussian: zero for uncorrelated
    dimensions. Nonlinear dependence is not counted.
    """
    latents = np.asarray(latents, np.float64)
    if latents.ndim != 2 or len(latents) < 2:
        raise InputError(f"gaussian_total_correlation: expected (N >= 2, dims) latents, got {latents.shape}")
    varying = latents[:, latents.std(axis=0) > 0]
    if varying.shape[1] < 2:
        return 0.0
    sign, logdet = np.linalg.slogdet(np.corrcoef(varying, rowvar=False))
    if sign <= 0:
        return float("inf")
    return float(-0.5 * logdet / math.log(2))
