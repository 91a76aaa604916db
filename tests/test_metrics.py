import numpy as np
import pytest

import ldc


def test_psnr_of_identical_images_is_infinite(digits):
    assert ldc.psnr(digits, digits) == float("inf")
    assert np.all(np.isinf(ldc.psnr_per_image(digits, digits.copy())))


def test_psnr_does_not_wrap_around_on_uint8():
    a = np.full((1, 28, 28), 3, np.uint8)
    b = np.full((1, 28, 28), 5, np.uint8)
    # uint8 subtraction would give 254 (or 2 -> 4 squared); the true error is 2 levels everywhere.
    expected = 10 * np.log10(255.0 ** 2 / 2.0 ** 2)
    assert ldc.psnr(a, b) == pytest.approx(expected)
    assert ldc.psnr(b, a) == pytest.approx(expected)


def test_psnr_matches_definition_and_mixed_scales(digits):
    rng = np.random.default_rng(0)
    noisy = np.clip(digits.astype(int) + rng.integers(-20, 21, digits.shape), 0, 255).astype(np.uint8)
    mse255 = np.mean((digits.astype(float) - noisy.astype(float)) ** 2)
    assert ldc.psnr(digits, noisy) == pytest.approx(10 * np.log10(255 ** 2 / mse255))
    # Float images on the [0, 1] scale give the same number as uint8 ones.
    assert ldc.psnr(digits, noisy / 255.0) == pytest.approx(ldc.psnr(digits, noisy))


def test_psnr_per_image_and_whole_set_differ_as_defined(digits):
    rng = np.random.default_rng(1)
    noisy = np.clip(digits.astype(int) + rng.integers(-40, 41, digits.shape), 0, 255).astype(np.uint8)
    per_image = ldc.psnr_per_image(digits, noisy)
    assert per_image.shape == (len(digits),)
    errors = np.mean((digits / 255.0 - noisy / 255.0) ** 2, axis=(1, 2))
    np.testing.assert_allclose(per_image, 10 * np.log10(1 / errors))
    assert ldc.psnr(digits, noisy) == pytest.approx(10 * np.log10(1 / errors.mean()))


def test_mae_is_on_the_unit_scale():
    a = np.zeros((2, 28, 28), np.uint8)
    b = np.full((2, 28, 28), 51, np.uint8)
    assert ldc.mae(a, b) == pytest.approx(0.2)
    assert ldc.mae(b, a) == pytest.approx(0.2)
    assert ldc.mae(a, b.reshape(2, 28, 28, 1)) == pytest.approx(0.2)


def test_rmse_bounds_psnr_from_mae(digits):
    # RMSE >= MAE always, so PSNR <= 20 log10(1 / MAE): the check chapter 4 applies to published tables.
    rng = np.random.default_rng(2)
    noisy = np.clip(digits.astype(int) + rng.integers(-60, 61, digits.shape), 0, 255).astype(np.uint8)
    assert ldc.psnr(digits, noisy) <= 20 * np.log10(1 / ldc.mae(digits, noisy)) + 1e-9


@pytest.mark.parametrize("bad, message", [
    (np.zeros((1, 28, 28), np.int16), "uint8"),
    (np.full((1, 28, 28), np.nan), "NaN"),
    (np.full((1, 28, 28), 200.0), "largest is 200"),
])
def test_bad_pixels_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        ldc.psnr(np.zeros((1, 28, 28), np.uint8), bad)


def test_mismatched_sizes_raise():
    with pytest.raises(ValueError, match="different numbers of pixels"):
        ldc.mae(np.zeros((2, 28, 28), np.uint8), np.zeros((3, 28, 28), np.uint8))


def test_bits_of_strings():
    strings = [b"\x00", b"\x01\x02", b""]
    np.testing.assert_array_equal(ldc.string_bits(strings), [8, 16, 0])
    assert ldc.bits_per_digit(strings) == pytest.approx(8.0)
    assert ldc.bits_per_pixel(784) == 1.0
    with pytest.raises(ValueError):
        ldc.bits_per_digit([])
