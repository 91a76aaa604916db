import os

import numpy as np
import pytest

import ldc


def test_decompress_of_compress_is_the_decoder_on_rounded_latents(small_codec, digits):
    compressed = small_codec.compress(digits)
    decoded = small_codec.decompress(compressed.strings)
    expected = small_codec.decode_latents(np.round(small_codec.latents(digits)))
    assert decoded.dtype == np.uint8 and decoded.shape == (64, 28, 28)
    np.testing.assert_array_equal(decoded, expected)


def test_information_bits_equal_the_prior_on_rounded_latents(small_codec, digits):
    compressed = small_codec.compress(digits[:20])
    _, bits = small_codec.model.prior(np.round(small_codec.latents(digits[:20])), training=False)
    np.testing.assert_allclose(compressed.information_bits, bits.numpy(), rtol=1e-5)
    assert np.all(compressed.bits >= 8) and np.all(compressed.bits % 8 == 0)


def test_compress_accepts_a_channel_axis(small_codec, digits):
    a = small_codec.compress(digits[:4]).strings
    b = small_codec.compress(digits[:4, :, :, None]).strings
    assert a == b


def test_fingerprint_identifies_weights_and_tables(small_codec):
    model, tables = small_codec.model, small_codec.tables
    assert len(small_codec.fingerprint) == 16
    assert ldc.model_fingerprint(model, tables) == small_codec.fingerprint
    other_tables = ldc.CodingTables(tables.cdf.copy(), tables.cdf_offset + 1)
    assert ldc.model_fingerprint(model, other_tables) != small_codec.fingerprint
    clone = ldc.CompressionModel(latent_dims=model.latent_dims)
    clone.set_weights(model.get_weights())
    assert ldc.model_fingerprint(clone, tables) == small_codec.fingerprint
    weights = model.get_weights()
    weights[3] = weights[3] + np.float32(1e-6)
    clone.set_weights(weights)
    assert ldc.model_fingerprint(clone, tables) != small_codec.fingerprint


def test_random_bits_decode_into_images(small_codec):
    images = small_codec.decode_random([os.urandom(8) for _ in range(16)])
    assert images.shape == (16, 28, 28) and images.dtype == np.uint8


def test_measure_reports_rates_and_distortion(small_codec, digits):
    report = small_codec.measure(digits[:32])
    assert report["digits"] == 32
    assert report["real_bits"] >= report["information_bits"] - 1
    decoded = small_codec.decompress(small_codec.compress(digits[:32]).strings)
    assert report["mae"] == pytest.approx(ldc.mae(digits[:32], decoded))
    assert report["psnr_db"] == pytest.approx(ldc.psnr(digits[:32], decoded))


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 28, 27), np.uint8), "shaped"),
    (np.zeros((0, 28, 28), np.uint8), "no digits"),
    (np.full((1, 28, 28), 300), "0..255"),
    (np.full((1, 28, 28), -1.0), "0..255"),
    (np.full((1, 28, 28), np.nan), "not finite"),
    (np.full((1, 28, 28), 0.5), "whole numbers"),
    (np.zeros((1, 28, 28), bool), "dtype bool"),
    (np.array([["a"] * 28] * 28), "dtype"),
])
def test_bad_digits_get_a_clear_error(small_codec, bad, message):
    with pytest.raises(ldc.InputError, match=message):
        small_codec.compress(bad)


def test_decompress_checks_its_input(small_codec):
    with pytest.raises(ldc.InputError, match="single string"):
        small_codec.decompress(b"abc")
    with pytest.raises(ldc.InputError, match=r"strings\[1\]"):
        small_codec.decompress([b"ab", "text"])
    assert small_codec.decompress([]).shape == (0, 28, 28)


def test_decode_latents_checks_shape_and_values(small_codec):
    with pytest.raises(ldc.InputError, match="shape"):
        small_codec.decode_latents(np.zeros((2, 3)))
    with pytest.raises(ldc.InputError, match="NaN"):
        small_codec.decode_latents(np.full((1, 8), np.nan))
