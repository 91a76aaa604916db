import struct

import numpy as np
import pytest

import ldc
from tests.conftest import synthetic_digits


@pytest.mark.parametrize("block", [1, 2, 4, 7, 14, 28])
def test_dct_then_idct_is_the_identity(digits, block):
    codec = ldc.DCTCodec(step=1.0, block=block)
    coefficients = codec.transform(digits)
    assert coefficients.shape == (64, (28 // block) ** 2, block * block)
    np.testing.assert_array_equal(codec.inverse(coefficients), digits)


def test_dct_is_orthonormal(digits):
    coefficients = ldc.DCTCodec(step=1.0, block=7).transform(digits)
    centred = digits.astype(np.float64) - 128.0
    np.testing.assert_allclose((coefficients ** 2).sum(axis=(1, 2)), (centred ** 2).sum(axis=(1, 2)))


def test_dct_codec_round_trip_equals_its_reconstruction(digits):
    train, test = synthetic_digits(400, seed=5), digits
    codec = ldc.DCTCodec(step=24.0, block=7).fit(train)
    strings = codec.compress(test)
    assert len(strings) == len(test) and all(isinstance(s, bytes) for s in strings)
    np.testing.assert_array_equal(codec.decompress(strings), codec.reconstruct(test))


def test_a_coarser_step_costs_fewer_bits_and_more_error(digits):
    train = synthetic_digits(400, seed=6)
    rates, errors = [], []
    for step in (4.0, 16.0, 64.0):
        codec = ldc.DCTCodec(step=step, block=7).fit(train)
        rates.append(ldc.bits_per_digit(codec.compress(digits)))
        errors.append(ldc.mae(digits, codec.reconstruct(digits)))
    assert rates[0] > rates[1] > rates[2]
    assert errors[0] < errors[1] < errors[2]


def test_dct_codec_needs_fit_and_valid_settings(digits):
    with pytest.raises(RuntimeError, match="fit"):
        ldc.DCTCodec(step=8.0).compress(digits)
    with pytest.raises(ValueError, match="divides 28"):
        ldc.DCTCodec(step=8.0, block=8)
    with pytest.raises(ValueError, match="step"):
        ldc.DCTCodec(step=0)


def test_png_is_lossless_and_its_header_is_counted_exactly(digits):
    encoded = ldc.encode_pillow(digits[:5], "PNG")
    np.testing.assert_array_equal(encoded.reconstructions, digits[:5])
    for data, header in zip(encoded.strings, encoded.header_bytes):
        assert data.startswith(b"\x89PNG")
        (idat_length,) = struct.unpack(">I", data[33:37])  # first chunk after the 8-byte signature + 25-byte IHDR
        assert data[37:41] == b"IDAT"
        # signature 8 + IHDR 25 + IDAT overhead 12 + IEND 12, when there is one IDAT chunk
        assert header == 57 and len(data) - header == idat_length


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_lossy_codecs_trade_quality_for_bytes(digits, fmt):
    low, high = ldc.encode_pillow(digits, fmt, quality=10), ldc.encode_pillow(digits, fmt, quality=90)
    assert low.bits.mean() < high.bits.mean()
    assert ldc.mae(digits, low.reconstructions) > ldc.mae(digits, high.reconstructions)
    for encoded in (low, high):
        assert np.all(encoded.header_bytes > 0) and np.all(encoded.payload_bits > 0)
        assert np.all(encoded.payload_bits < encoded.bits)
        assert encoded.reconstructions.shape == digits.shape and encoded.reconstructions.dtype == np.uint8


def test_jpeg_header_is_everything_but_the_scan_data(digits):
    data = ldc.encode_pillow(digits[:1], "JPEG", quality=75).strings[0]
    header = ldc.encode_pillow(digits[:1], "JPEG", quality=75).header_bytes[0]
    sos = data.index(b"\xff\xda")
    (sos_length,) = struct.unpack(">H", data[sos + 2:sos + 4])
    scan_start, scan_end = sos + 2 + sos_length, data.rindex(b"\xff\xd9")
    assert header == len(data) - (scan_end - scan_start)


@pytest.mark.parametrize("fmt, quality, message",
                         [("GIF", None, "fmt"), ("PNG", 50, "lossless"), ("JPEG", 0, "quality")])
def test_pillow_options_are_checked(digits, fmt, quality, message):
    with pytest.raises(ValueError, match=message):
        ldc.encode_pillow(digits[:1], fmt, quality=quality)


def test_dct_curve_points_are_the_codecs_real_round_trips(digits):
    train = synthetic_digits(400, seed=8)
    points = ldc.dct_curve(train, digits, steps=[8.0, 32.0], block=7)
    assert [p["step"] for p in points] == [8.0, 32.0]
    codec = ldc.DCTCodec(step=32.0, block=7).fit(train)
    strings = codec.compress(digits)
    assert points[1]["bits"] == ldc.bits_per_digit(strings)
    assert points[1]["mae"] == ldc.mae(digits, codec.decompress(strings))
    assert points[0]["bits"] > points[1]["bits"] and points[0]["psnr_db"] > points[1]["psnr_db"]


def test_pillow_curve_reports_files_with_and_without_headers(digits):
    png, = ldc.pillow_curve(digits, "png")
    assert png["codec"] == "PNG" and png["mae"] == 0.0 and png["psnr_db"] == float("inf")
    low, high = ldc.pillow_curve(digits, "WEBP", qualities=[5, 90])
    assert 0 < low["payload_bits"] < low["bits"]
    assert low["bits"] < high["bits"] and low["mae"] > high["mae"]
    assert low["bits"] == ldc.encode_pillow(digits, "WEBP", 5).bits.mean()


def test_jpeg_segments_cover_the_file_and_the_scan_is_the_payload(digits):
    encoded = ldc.encode_pillow(digits[:2], "JPEG", quality=50)
    for data, header in zip(encoded.strings, encoded.header_bytes):
        parts = ldc.jpeg_segments(data)
        assert sum(size for _, size in parts) == len(data)
        assert parts[0] == ("SOI start of image", 2) and parts[-1] == ("EOI end of image", 2)
        names = [name for name, _ in parts]
        assert {"DQT quantization tables", "DHT Huffman tables", "SOS scan header"} <= set(names)
        assert len(data) - dict(parts)["scan data"] == header


def test_jpeg_optimize_fits_the_huffman_tables(digits):
    plain, fitted = ldc.encode_pillow(digits, "JPEG", 50), ldc.encode_pillow(digits, "JPEG", 50, optimize=True)
    np.testing.assert_array_equal(plain.reconstructions, fitted.reconstructions)  # same coefficients, other codes
    assert fitted.payload_bits.mean() <= plain.payload_bits.mean() and fitted.bits.mean() < plain.bits.mean()
    point, = ldc.pillow_curve(digits, "JPEG", [50], optimize=True)
    assert point["payload_bits"] == fitted.payload_bits.mean()
    with pytest.raises(ValueError, match="JPEG option"):
        ldc.encode_pillow(digits[:1], "WEBP", 50, optimize=True)
