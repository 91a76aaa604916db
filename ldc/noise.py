"""Gaussian noise on digits (chapter 7): what a denoiser is trained on, and what the codec is asked to keep."""
import numpy as np

from ldc.data import as_digits
from ldc.errors import InputError, shown

MAX_SIGMA = 2.0  # on [0, 1] pixels: beyond this, clipping leaves black and white only


def check_sigma(sigma):
    """Return ``sigma`` as a float in [0, MAX_SIGMA]; InputError naming it otherwise."""
    if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise InputError(f"sigma={shown(sigma)}: expected a number (the noise's standard deviation on [0, 1] pixels)")
    sigma = float(sigma)
    if not 0 <= sigma <= MAX_SIGMA:
        raise InputError(f"sigma={sigma:g}: expected 0 to {MAX_SIGMA:g} (on [0, 1] pixels)")
    return sigma


def add_noise(digits, sigma, seed=0):
    """Return uint8 digits (N, 28, 28) with Gaussian noise of standard deviation ``sigma`` on [0, 1] pixels.

    Each pixel gets ``sigma`` times a standard normal draw (NumPy's generator
    seeded with ``seed``), is clipped to [0, 1] and rounded back to 0..255, so
    a noisy digit is an image like any other.
    """
    digits = as_digits(digits)
    sigma = check_sigma(sigma)
    noise = np.random.default_rng(seed).standard_normal(digits.shape)
    noisy = np.clip(digits / 255.0 + sigma * noise, 0.0, 1.0)
    return np.round(noisy * 255.0).astype(np.uint8)
