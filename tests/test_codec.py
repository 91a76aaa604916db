import os

import numpy as np
import pytest

import ldc
from ldc.model import set_named_weights


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
    other_tables = ldc.CodingTables(tables.counts, tables.offsets + 1, tables.sizes)
    assert ldc.model_fingerprint(model, other_tables) != small_codec.fingerprint
    clone = ldc.CompressionModel(latent_dims=model.latent_dims)
    weights = ldc.named_weights(model)
    # Assigned by name in any order (Keras 2 and 3 order weights differently): the same model.
    set_named_weights(clone, dict(reversed(list(weights.items()))))
    assert ldc.model_fingerprint(clone, tables) == small_codec.fingerprint
    weights["synthesis_transform/fc_1/bias"] = weights["synthesis_transform/fc_1/bias"] + np.float32(1e-6)
    set_named_weights(clone, weights)
    assert ldc.model_fingerprint(clone, tables) != small_codec.fingerprint


def test_weights_by_name_refuse_a_missing_or_misshapen_weight(small_codec):
    weights = ldc.named_weights(small_codec.model)
    assert "prior/log_scales" in weights and "analysis_transform/conv_1/kernel" in weights
    clone = ldc.CompressionModel(latent_dims=8)
    with pytest.raises(ValueError, match="missing"):
        set_named_weights(clone, {k: v for k, v in weights.items() if k != "prior/log_scales"})
    with pytest.raises(ValueError, match="shape"):
        set_named_weights(clone, {**weights, "prior/log_scales": np.zeros(9, np.float32)})


def test_a_file_is_one_stream_that_approaches_the_information_content(small_codec, digits):
    container = small_codec.to_container(digits)
    information = small_codec.compress(digits).information_bits.sum()
    # The portable coder, one stream: a word or two of ending for the whole file, and the
    # integer tables' rounding (a fraction of a percent).
    assert 8 * len(container.payload) <= 1.01 * information + 64
    np.testing.assert_array_equal(small_codec.from_container(container),
                                  small_codec.decompress(small_codec.compress(digits).strings))


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
    # Jensen: the mean of per-digit PSNRs is never below the pooled PSNR
    assert report["psnr_per_digit_db"] >= report["psnr_db"] - 1e-9


def test_payload_bits_are_the_strings_without_their_check(small_codec, digits):
    real = small_codec.compress(digits[:64]).bits
    payload = small_codec.payload_bits(digits[:64])
    assert payload.shape == real.shape and np.all(payload <= real)
    # The check is one uniform 8-bit symbol: dropping it saves 8 bits on average, up to the strings' rounding
    assert 4.0 <= float(np.mean(real - payload)) <= 12.0
    assert small_codec.measure(digits[:64])["payload_bits"] == pytest.approx(float(payload.mean()))


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
