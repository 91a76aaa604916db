"""Distortion and rate metrics: MAE, PSNR, bits per digit and per pixel (chapters 1, 4, 5).

Images are uint8 in 0..255 or float in [0, 1]; both are compared on the
[0, 1] scale after converting to float64, so uint8 differences never wrap
around (``np.uint8(3) - np.uint8(5)`` is 254, not -2).
"""
import numpy as np

from ldc.errors import InputError, converted

PIXELS_PER_DIGIT = 28 * 28


def to_unit(images):
    """Return ``images`` as float64 on the [0, 1] scale: uint8 is divided by 255, floats are kept.

    Raises InputError (a ValueError) for other dtypes, NaN or infinity, and for float images
    above 2 (pixels on the 0..255 scale passed as floats: use uint8 for those).
    """
    images = converted("images", images, np.asarray, "an array of pixels")
    if images.dtype == np.uint8:
        return images.astype(np.float64) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise InputError(f"images: expected uint8 (0..255) or float ([0, 1]) pixels, got {images.dtype}")
    images = images.astype(np.float64)
    if images.size and not np.all(np.isfinite(images)):
        raise InputError("images: NaN or infinite pixel values")
    if images.size and images.max() > 2.0:
        raise InputError(f"images: float pixels are expected in [0, 1], but the largest is {images.max():g}; "
                         "pass uint8 for pixels in 0..255")
    return images


def _pair(original, reconstruction):
    a, b = to_unit(original), to_unit(reconstruction)
    if a.size != b.size:
        raise InputError(f"original {a.shape} and reconstruction {b.shape} hold different numbers of pixels")
    if a.size == 0:
        raise InputError("no pixels to compare")
    return a.reshape(b.shape) if a.shape != b.shape else a, b


def mae(original, reconstruction):
    """Return the mean absolute pixel error on the [0, 1] scale (a float)."""
    a, b = _pair(original, reconstruction)
    return float(np.mean(np.abs(a - b)))


def mse(original, reconstruction):
    """Return the mean squared pixel error on the [0, 1] scale (a float)."""
    a, b = _pair(original, reconstruction)
    return float(np.mean((a - b) ** 2))


def _psnr_from_mse(value):
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / np.asarray(value, dtype=np.float64))


def psnr(original, reconstruction):
    """Return the PSNR in dB over all pixels together, ``10 log10(peak^2 / MSE)``; infinite when identical.

    This is the PSNR of the whole set (one MSE over every pixel of every
    digit), not the mean of per-digit PSNRs; see :func:`psnr_per_image`.
    """
    return float(_psnr_from_mse(mse(original, reconstruction)))


def psnr_per_image(original, reconstruction):
    """Return one PSNR in dB per image, float64 (N,), for images (N, H, W[, 1]); identical images give inf."""
    a, b = _pair(original, reconstruction)
    if a.ndim < 3:
        raise InputError(f"psnr_per_image: expected a batch of images (N, H, W[, 1]), got shape {a.shape}")
    errors = np.mean((a - b) ** 2, axis=tuple(range(1, a.ndim)))
    return _psnr_from_mse(errors)


def string_bits(strings):
    """Return the real length in bits (8 per byte) of each compressed string: float64 (N,)."""
    strings = converted("strings", strings, list, "a sequence of byte strings")
    if not all(isinstance(s, (bytes, bytearray)) for s in strings):
        raise InputError("strings: expected a sequence of byte strings")
    return np.array([8.0 * len(s) for s in strings], dtype=np.float64)


def bits_per_digit(strings):
    """Return the mean real length of the strings in bits per digit (a float)."""
    bits = string_bits(strings)
    if len(bits) == 0:
        raise InputError("bits_per_digit: no strings given")
    return float(np.mean(bits))


def bits_per_pixel(bits_per_digit_value):
    """Return bits per pixel for a rate in bits per 28x28 digit (784 pixels)."""
    return converted("bits_per_digit_value", bits_per_digit_value, float, "a number of bits") / PIXELS_PER_DIGIT
