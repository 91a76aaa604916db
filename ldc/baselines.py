"""Classic codecs for comparison: a blockwise DCT codec and Pillow's PNG, JPEG and WebP (chapters 1 and 4).

Every codec here returns real bytes and the digits a decoder gets back, so
its rate-distortion points sit on the same axes as the learned codec's.

The DCT codec is transform coding with a fixed linear transform: split the
digit into blocks, take each block's orthonormal 2-D DCT, divide by one
quantization step and round, then range-code the integers with one
probability table per frequency, learned from training digits (the same
range coder the learned codec uses, so the comparison is about transforms,
not about entropy coders). Its tables are shared knowledge, like the learned
codec's prior, and cost no bits per digit.
"""
import io
import struct
from dataclasses import dataclass

import numpy as np
import scipy.fft
from PIL import Image

from ldc.data import DIGIT_SHAPE, as_digits
from ldc.entropy import RangeCoder, pmf_tables
from ldc.errors import InputError, NotReadyError, converted
from ldc.metrics import bits_per_digit, mae, psnr

MAX_TABLE_WIDTH = 1023  # symbols per frequency table; rarer values take the coder's escape code


class DCTCodec:
    """Blockwise DCT, uniform quantization and range coding of uint8 digits (N, 28, 28).

    Args:
      step: quantization step in pixel units (0..255 scale; the orthonormal
        DCT keeps that scale). Larger steps mean fewer bits and more error.
      block: block side in pixels; must divide 28 (1, 2, 4, 7, 14 or 28).

    Call :meth:`fit` on training digits before :meth:`compress`.
    """

    def __init__(self, step, block=7):
        step = converted("step", step, float, "a positive quantization step")
        if not np.isfinite(step) or step <= 0:
            raise InputError(f"step={step!r}: expected a positive quantization step")
        if isinstance(block, bool) or not isinstance(block, int) or block < 1 or DIGIT_SHAPE[0] % block:
            raise InputError(f"block={block!r}: expected a block side that divides 28 (1, 2, 4, 7, 14, 28)")
        self.step = step
        self.block = block
        self.blocks = (DIGIT_SHAPE[0] // block) ** 2
        self._coder = None

    def transform(self, digits):
        """Return the DCT coefficients of uint8 digits: float64 (N, blocks, block*block), pixels centred on 128."""
        digits = as_digits(digits).astype(np.float64) - 128.0
        b, k = self.block, DIGIT_SHAPE[0] // self.block
        tiles = digits.reshape(-1, k, b, k, b).transpose(0, 1, 3, 2, 4)
        coefficients = scipy.fft.dctn(tiles, type=2, norm="ortho", axes=(-2, -1))
        return coefficients.reshape(len(digits), self.blocks, b * b)

    def inverse(self, coefficients):
        """Return uint8 digits (N, 28, 28) from DCT coefficients (N, blocks, block*block), clipped and rounded."""
        b, k = self.block, DIGIT_SHAPE[0] // self.block
        coefficients = np.asarray(coefficients, dtype=np.float64)
        if coefficients.ndim != 3 or coefficients.shape[1:] != (self.blocks, b * b):
            raise InputError(f"coefficients: expected (N, {self.blocks}, {b * b}), got {coefficients.shape}")
        tiles = scipy.fft.idctn(coefficients.reshape(-1, k, k, b, b), type=2, norm="ortho", axes=(-2, -1))
        pixels = tiles.transpose(0, 1, 3, 2, 4).reshape(-1, *DIGIT_SHAPE) + 128.0
        return np.clip(np.round(pixels), 0, 255).astype(np.uint8)

    def quantize(self, digits):
        """Return the quantized coefficients: int64 (N, blocks, block*block) = round(coefficient / step)."""
        return np.round(self.transform(digits) / self.step).astype(np.int64)

    def reconstruct(self, digits):
        """Return what the decoder gets back, uint8 (N, 28, 28), without coding (equal to decompress(compress(x)))."""
        return self.inverse(self.quantize(digits) * self.step)

    def fit(self, digits):
        """Learn one probability table per frequency from training digits (uint8 (N, 28, 28)); return self."""
        symbols = self.quantize(digits).reshape(-1, self.block * self.block)
        pmfs, offsets = [], []
        for column in symbols.T:
            low, high = np.quantile(column, [1e-4, 1 - 1e-4]).round().astype(np.int64)
            centre = int(np.median(column))
            low = max(int(low), centre - MAX_TABLE_WIDTH // 2)
            high = min(int(high), low + MAX_TABLE_WIDTH - 1)
            inside = column[(column >= low) & (column <= high)]
            counts = np.bincount(inside - low, minlength=high - low + 1).astype(np.float64)
            # Every value in range keeps some probability (a test digit may use it);
            # values outside keep the escape's share, at least one count's worth.
            escape = (len(column) - len(inside) + 1.0) / (len(column) + 1.0)
            pmf = (counts + 0.1) / (counts.sum() + 0.1 * len(counts)) * (1.0 - escape)
            pmfs.append(pmf)
            offsets.append(low)
        self._coder = RangeCoder(pmf_tables(pmfs, offsets), coding_rank=2)
        return self

    def _fitted(self):
        if self._coder is None:
            raise NotReadyError("DCTCodec: call fit(training_digits) before compress or decompress")
        return self._coder

    def compress(self, digits):
        """Return one range-coded ``bytes`` string per uint8 digit."""
        return self._fitted().compress(self.quantize(digits))

    def decompress(self, strings):
        """Return uint8 digits (N, 28, 28) from strings written by :meth:`compress`."""
        symbols = self._fitted().decompress(list(strings), (self.blocks, self.block * self.block))
        return self.inverse(symbols * self.step)


@dataclass(frozen=True)
class Encoded:
    """Digits encoded by a classic codec: ``strings`` (one file's bytes per digit), the decoded ``reconstructions``
    uint8 (N, 28, 28), and ``header_bytes`` int (N,) of each file that are format overhead rather than image data."""

    name: str
    strings: list
    reconstructions: np.ndarray
    header_bytes: np.ndarray

    @property
    def bits(self):
        """Whole-file size of each digit in bits: float64 (N,)."""
        return np.array([8.0 * len(s) for s in self.strings])

    @property
    def payload_bits(self):
        """Size in bits of each digit without its headers (the entropy-coded image data): float64 (N,)."""
        return self.bits - 8.0 * self.header_bytes


def _png_header_bytes(data):
    """Bytes of a PNG that are not IDAT data: signature, IHDR, IEND and every chunk's length/type/CRC."""
    at, payload = 8, 0
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        if data[at + 4:at + 8] == b"IDAT":
            payload += length
        at += 12 + length
    return len(data) - payload


_JPEG_MARKERS = {0xC0: "SOF0 frame header", 0xC2: "SOF2 frame header", 0xC4: "DHT Huffman tables",
                 0xD9: "EOI end of image", 0xDA: "SOS scan header", 0xDB: "DQT quantization tables",
                 0xE0: "APP0 JFIF header"}


def jpeg_segments(data):
    """Return a JPEG file's parts in order as ``(name, bytes)`` pairs, their sizes summing to ``len(data)`` (chapter 1).

    Each marker segment counts its 2-byte marker; the entropy-coded image data
    after each scan header is its own part, named "scan data" (the payload).
    """
    parts, at = [("SOI start of image", 2)], 2
    while at + 4 <= len(data):
        marker = data[at + 1]
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        parts.append((_JPEG_MARKERS.get(marker, f"marker 0x{marker:02X}"), 2 + length))
        at += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data runs up to the next non-RST marker
            end = at
            while end + 1 < len(data) and not (data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))):
                end += 1
            parts.append(("scan data", end - at))
            at = end
            if data[at:at + 2] == b"\xff\xd9":
                parts.append((_JPEG_MARKERS[0xD9], 2))
                at += 2
    if at < len(data):
        parts.append(("trailing bytes", len(data) - at))
    return parts


def _jpeg_header_bytes(data):
    """Bytes of a JPEG outside the entropy-coded scan data: markers, tables, frame and scan headers, EOI."""
    return len(data) - sum(size for name, size in jpeg_segments(data) if name == "scan data")


def _webp_header_bytes(data):
    """Bytes of a WebP outside the compressed bitstream: RIFF header, chunk headers, VP8 frame header."""
    at, payload = 12, 0
    while at + 8 <= len(data):
        kind = data[at:at + 4]
        (length,) = struct.unpack("<I", data[at + 4:at + 8])
        if kind == b"VP8 ":
            payload += max(length - 10, 0)  # 3-byte frame tag + 7-byte key frame header
        elif kind == b"VP8L":
            payload += max(length - 5, 0)  # signature + image size
        at += 8 + length + (length & 1)
    return len(data) - payload


_HEADER_BYTES = {"PNG": _png_header_bytes, "JPEG": _jpeg_header_bytes, "WEBP": _webp_header_bytes}


def encode_pillow(digits, fmt, quality=None, optimize=False):
    """Encode each uint8 digit (N, 28, 28) as its own grayscale ``fmt`` file with Pillow; return :class:`Encoded`.

    Args:
      fmt: "PNG" (lossless), "JPEG" or "WEBP".
      quality: 1..100 for JPEG and WebP (None: Pillow's default); must be None for PNG.
      optimize: JPEG only: Huffman tables fitted to each image (Pillow's
        ``optimize=True``) instead of the standard ones.
    """
    fmt = fmt.upper()
    if fmt not in _HEADER_BYTES:
        raise InputError(f"fmt={fmt!r}: expected one of {sorted(_HEADER_BYTES)}")
    header_bytes, options = _HEADER_BYTES[fmt], {}
    if quality is not None:
        if fmt == "PNG":
            raise InputError("PNG is lossless: quality must be None")
        if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
            raise InputError(f"quality={quality!r}: expected an int 1..100")
        options["quality"] = quality
    if optimize:
        if fmt != "JPEG":
            raise InputError(f"optimize=True: fitted Huffman tables are a JPEG option, not {fmt}'s")
        options["optimize"] = True
    digits = as_digits(digits)
    strings, decoded, headers = [], [], []
    for digit in digits:
        buffer = io.BytesIO()
        Image.fromarray(digit).save(buffer, format=fmt, **options)
        data = buffer.getvalue()
        strings.append(data)
        decoded.append(np.asarray(Image.open(io.BytesIO(data)).convert("L")))
        headers.append(header_bytes(data))
    name = (fmt if quality is None else f"{fmt} q={quality}") + (" optimized" if optimize else "")
    return Encoded(name, strings, np.stack(decoded), np.array(headers, dtype=np.int64))


def dct_curve(train_digits, test_digits, steps, block=7):
    """Return the DCT codec's rate-distortion points on ``test_digits``, one per quantization step (chapters 1, 4).

    For each step the codec's tables are fitted on ``train_digits``, the test
    digits are compressed to real strings and decompressed. Each point is a
    dict: ``codec`` (a label), ``step``, ``bits`` (mean string length, bits
    per digit), ``mae`` ([0, 1] scale) and ``psnr_db`` (over all test pixels).
    """
    train_digits, test_digits = as_digits(train_digits, "train_digits"), as_digits(test_digits, "test_digits")
    points = []
    for step in steps:
        codec = DCTCodec(step, block).fit(train_digits)
        strings = codec.compress(test_digits)
        decoded = codec.decompress(strings)
        points.append({"codec": f"DCT {block}x{block}", "step": float(step), "bits": bits_per_digit(strings),
                       "mae": mae(test_digits, decoded), "psnr_db": psnr(test_digits, decoded)})
    return points


def pillow_curve(test_digits, fmt, qualities=(None,), optimize=False):
    """Return Pillow's rate-distortion points for ``fmt`` ("PNG", "JPEG", "WEBP") on ``test_digits``, one per quality.

    Each point is a dict: ``codec``, ``quality``, ``bits`` (mean whole-file
    size, bits per digit), ``payload_bits`` (the same without header bytes),
    ``mae`` ([0, 1] scale) and ``psnr_db`` (over all test pixels; inf when lossless).
    ``optimize`` is :func:`encode_pillow`'s (JPEG only).
    """
    test_digits = as_digits(test_digits, "test_digits")
    points = []
    for quality in qualities:
        encoded = encode_pillow(test_digits, fmt, quality, optimize)
        points.append({"codec": fmt.upper(), "quality": quality, "bits": float(encoded.bits.mean()),
                       "payload_bits": float(encoded.payload_bits.mean()),
                       "mae": mae(test_digits, encoded.reconstructions),
                       "psnr_db": psnr(test_digits, encoded.reconstructions)})
    return points
