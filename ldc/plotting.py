"""Figures the chapters share: digit grids, prior densities, rate-distortion curves, training history.

Each function draws with Matplotlib and returns the ``Figure`` (or draws on
the ``ax`` it is given), so a notebook shows it and a test can inspect it.
"""
import matplotlib.pyplot as plt
import numpy as np

from ldc.data import as_digits
from ldc.errors import InputError


def _hex(string, limit=12):
    text = bytes(string).hex()
    return "0x" + (text if len(text) <= 2 * limit else text[:2 * limit - 1] + "…")


def digit_grid(originals, reconstructions=None, strings=None, bits=None, columns=8, scale=1.4):
    """Return a figure of digits: each original, then (if given) its string in hex with its bits, then its
    reconstruction.

    Args:
      originals: uint8 digits (N, 28, 28[, 1]).
      reconstructions: uint8 digits (N, 28, 28[, 1]) or None.
      strings: N byte strings (shown in hex with their real length), or None.
      bits: N information contents in bits (shown beside the real length), or None.
      columns: digits per row of the grid.
    """
    originals = as_digits(originals, "originals")
    n = len(originals)
    if reconstructions is not None:
        reconstructions = as_digits(reconstructions, "reconstructions")
        if len(reconstructions) != n:
            raise InputError(f"{n} originals but {len(reconstructions)} reconstructions")
    for name, values in (("strings", strings), ("bits", bits)):
        if values is not None and len(values) != n:
            raise InputError(f"{n} originals but {len(values)} {name}")
    rows_per_digit = 1 + (reconstructions is not None)
    grid_rows = -(-n // columns)
    fig, axes = plt.subplots(grid_rows * rows_per_digit, columns, squeeze=False,
                             figsize=(columns * scale,
                                      grid_rows * rows_per_digit * scale * (1.25 if strings is not None else 1)))
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        row, col = divmod(i, columns)
        ax = axes[row * rows_per_digit, col]
        ax.imshow(originals[i], cmap="gray", vmin=0, vmax=255)
        if strings is not None:
            label = f"{_hex(strings[i], 6)}\n{8 * len(strings[i])} bits"
            if bits is not None:
                label += f" ({float(bits[i]):.1f})"
            ax.set_title(label, fontsize=7, family="monospace")
        if reconstructions is not None:
            axes[row * rows_per_digit + 1, col].imshow(reconstructions[i], cmap="gray", vmin=0, vmax=255)
    fig.tight_layout()
    return fig


def prior_densities(prior, value_range=(-6.0, 6.0), points=501, ax=None):
    """Plot the density of each latent dimension of ``prior`` and return the figure.

    ``prior`` is a :class:`~ldc.entropy.LogisticPrior` (anything with
    ``log_scales`` and ``density(values) -> (points, latent_dims)``). Curves are
    coloured from the narrowest scale (dark) to the widest (light).
    """
    scales = np.exp(np.asarray(prior.log_scales, dtype=np.float64).reshape(-1))
    values = np.linspace(*value_range, points)
    curves = np.asarray(prior.density(values))
    if curves.shape != (points, len(scales)):
        raise InputError(f"density returned shape {curves.shape}, expected {(points, len(scales))}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(scales)))
    for rank, j in enumerate(np.argsort(scales)):
        ax.plot(values, curves[:, j], color=colours[rank], lw=1)
    ax.set_xlabel("latent value")
    ax.set_ylabel("density")
    ax.set_title(f"{len(scales)} noisy logistic densities, scales {scales.min():.2g} to {scales.max():.2g}")
    return ax.figure


_METRIC_KEYS = {"psnr": "psnr_db", "mae": "mae"}


def curve(points, metric="psnr", rate="bits"):
    """Return ``(rates, values)`` arrays for :func:`rd_curves` from rate-distortion point dicts.

    ``points`` are dicts as :func:`~ldc.baselines.dct_curve`,
    :func:`~ldc.baselines.pillow_curve` or :meth:`~ldc.codec.Codec.measure`
    return; ``rate`` names the rate key ("bits", "payload_bits", "real_bits",
    "information_bits"), ``metric`` is "psnr" (key ``psnr_db``) or "mae".
    """
    if metric not in _METRIC_KEYS:
        raise InputError(f"metric={metric!r}: expected one of {sorted(_METRIC_KEYS)}")
    points = list(points)
    missing = [key for key in (rate, _METRIC_KEYS[metric]) if points and key not in points[0]]
    if missing:
        raise InputError(f"points have no {missing[0]!r} (keys: {sorted(points[0])})")
    return (np.array([p[rate] for p in points], dtype=float),
            np.array([p[_METRIC_KEYS[metric]] for p in points], dtype=float))


def rd_curves(curves, metric="psnr", ax=None):
    """Plot rate-distortion curves on one axis and return the figure.

    Args:
      curves: dict mapping a label to ``(bits_per_digit, values)`` arrays,
        values being PSNR in dB (metric="psnr") or MAE in [0, 1] (metric="mae").
      metric: "psnr" or "mae", for the y-axis label.
    """
    labels = {"psnr": "PSNR (dB)", "mae": "mean absolute error"}
    if metric not in labels:
        raise InputError(f"metric={metric!r}: expected one of {sorted(labels)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    for label, (rates, values) in curves.items():
        rates, values = np.asarray(rates, dtype=float), np.asarray(values, dtype=float)
        if rates.shape != values.shape or rates.ndim != 1:
            raise InputError(f"{label}: rates {rates.shape} and values {values.shape} must be equal 1-D arrays")
        order = np.argsort(rates)
        ax.plot(rates[order], values[order], marker="o", ms=3, label=label)
    ax.set_xlabel("rate (bits per digit)")
    ax.set_ylabel(labels[metric])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


def training_history(history):
    """Plot per-epoch train and test rate and distortion from a training history; return the figure."""
    if not history:
        raise InputError("history: no epochs to plot")
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, key, label in ((left, "rate", "bits per digit"), (right, "distortion", "MAE")):
        ax.plot(epochs, [h[f"train_{key}"] for h in history], marker="o", ms=3, label="train (noisy latents)")
        ax.plot(epochs, [h[f"test_{key}"] for h in history], marker="o", ms=3, label="test (rounded latents)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def digit_rows(rows, scale=1.1):
    """Return a figure with one labelled row of digits per entry of ``rows`` (label -> uint8 digits (N, 28, 28)).

    All rows must hold the same number of digits, e.g. the originals and their
    reconstructions by several models (chapter 4).
    """
    if not rows:
        raise InputError("rows: nothing to plot")
    rows = {label: as_digits(digits, f"rows[{label!r}]") for label, digits in rows.items()}
    counts = {len(digits) for digits in rows.values()}
    if len(counts) != 1:
        raise InputError(f"rows hold different numbers of digits: { {k: len(v) for k, v in rows.items()} }")
    n = counts.pop()
    fig, axes = plt.subplots(len(rows), n, squeeze=False, figsize=(n * scale + 1.2, len(rows) * scale))
    for r, (label, digits) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(digits[c], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(left=1.2 / (n * scale + 1.2), wspace=0.05, hspace=0.05)
    return fig
