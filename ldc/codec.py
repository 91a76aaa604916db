"""The learned codec: digits to byte strings and back, and files of many digits (chapters 5 and 6).

Compression runs the analysis transform, rounds the latents and range-codes
them with the prior's integer tables. :meth:`Codec.compress` writes one
string per digit with the backend's coder (what the TensorFlow tutorial
shows); a file (:meth:`Codec.write`) codes all its digits in one stream with
the portable coder, on every stack, so that it approaches the information
content and decodes the same anywhere. Decompression decodes the integers
and runs the synthesis transform. As in tensorflow-compression and
CompressAI, :meth:`Codec.compress` returns the strings together with what a
reader wants to know about them (here each digit's information content),
and :meth:`Codec.decompress` checks what it is given.
"""
import hashlib
import json
import zlib
from dataclasses import dataclass

import numpy as np

from ldc._tf import tf
from ldc.container import FINGERPRINT_BYTES, MAX_COUNT, Container, read_container, write_container
from ldc.data import as_digits
from ldc.entropy import CodingTables, RangeCoder
from ldc.errors import ContainerError, InputError, converted
from ldc.metrics import mae, psnr, psnr_per_image, string_bits
from ldc.model import CompressionModel, named_weights, to_unit_images
from ldc.range_coding import StreamCoder, check_strings
from ldc.training import describe_model

BATCH = 1000  # digits per forward pass
# Each per-digit string ends with a check value of its digit's integers, coded as one more symbol: a
# truncated, damaged or foreign string decodes to integers whose check differs from the decoded one,
# except by chance, 1 in CHECK_VALUES. It costs log2(CHECK_VALUES) = 8 bits per string.
CHECK_VALUES = 256
STREAM_SLACK_BITS = 64  # a stream's ending: at most two of the coder's 32-bit words beyond its symbols


def string_checks(integers):
    """Return the check value (0..255) of each row of integer latents (N, latent_dims): int64 (N,), a CRC-32's
    low byte."""
    rows = np.ascontiguousarray(np.asarray(integers), dtype="<i4")
    return np.array([zlib.crc32(row.tobytes()) % CHECK_VALUES for row in rows], dtype=np.int64)


def model_fingerprint(model, tables):
    """Return 16 bytes identifying a trained model: SHA-256 of its architecture, named weights and coding tables.

    Weights are taken by name, in name order, so the same model has the same
    fingerprint under Keras 2 and Keras 3.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps({"architecture": model.architecture, "latent_dims": model.latent_dims}).encode())
    weights = named_weights(model)
    for name in sorted(weights):
        weight = np.ascontiguousarray(weights[name], dtype=np.float32)
        digest.update(f"{name}|{weight.shape}|".encode())
        digest.update(weight.tobytes())
    for name, table in sorted(tables.arrays().items()):
        digest.update(f"{name}|".encode())
        digest.update(np.ascontiguousarray(table, dtype=np.int32).tobytes())
    return digest.digest()[:FINGERPRINT_BYTES]


@dataclass(frozen=True)
class Compressed:
    """Compressed digits: ``strings`` (one ``bytes`` each) and their ``information_bits`` float64 (N,)."""

    strings: list
    information_bits: np.ndarray

    @property
    def bits(self):
        """Real length of each string in bits: float64 (N,)."""
        return string_bits(self.strings)

    def __len__(self):
        return len(self.strings)


class Codec:
    """Compressor and decompressor built from a trained :class:`~ldc.model.CompressionModel` and its coding tables.

    Args:
      model: the trained CompressionModel.
      tables: its :class:`~ldc.entropy.CodingTables` (built once after training).
      description: JSON-ready dict stored in files this codec writes (e.g. the
        training configuration), so a reader can say which model it needs.
    """

    def __init__(self, model, tables, description=None):
        if not isinstance(model, CompressionModel) or not isinstance(tables, CodingTables):
            raise InputError(f"Codec(model, tables): expected a CompressionModel and its CodingTables, got "
                             f"{type(model).__name__} and {type(tables).__name__}")
        if tables.channels != model.latent_dims:
            raise InputError(f"coding tables have {tables.channels} channels, the model {model.latent_dims} latents")
        self.model = model
        self.tables = tables
        self.fingerprint = model_fingerprint(model, tables)
        self.description = dict(description or {"latent_dims": model.latent_dims, "architecture": model.architecture})
        self._string_tables = tables.with_check(CHECK_VALUES)
        self._coder = RangeCoder(self._string_tables)
        self._payload_coder = None
        self._permissive_coder = None
        self._stream = StreamCoder(tables)
        self._analysis = tf.function(lambda digits: model.analysis_transform(to_unit_images(digits)),
                                     reduce_retracing=True)
        self._synthesis = tf.function(
            lambda latents: tf.saturate_cast(tf.round(model.synthesis_transform(latents) * 255.0), tf.uint8),
            reduce_retracing=True)

    @property
    def latent_dims(self):
        """Number of latent dimensions per digit (the length of each decoded integer vector)."""
        return self.model.latent_dims

    def latents(self, digits):
        """Return the analysis transform's float32 latents (N, latent_dims) for uint8 digits (N, 28, 28[, 1]), not
        rounded."""
        digits = as_digits(digits)
        return np.concatenate([self._analysis(digits[i:i + BATCH]).numpy() for i in range(0, len(digits), BATCH)])

    def decode_latents(self, latents):
        """Return uint8 digits (N, 28, 28) synthesized from float latents (N, latent_dims), used as given (not
        rounded)."""
        latents = converted("latents", latents, lambda v: np.asarray(v, dtype=np.float32),
                            f"numbers shaped (N, {self.latent_dims})")
        if latents.ndim != 2 or latents.shape[1] != self.latent_dims:
            raise InputError(f"latents: expected shape (N, {self.latent_dims}), got {latents.shape}")
        if not np.all(np.isfinite(latents)):
            raise InputError("latents: NaN or infinite values")
        if len(latents) == 0:
            return np.zeros((0, 28, 28), np.uint8)
        parts = [self._synthesis(latents[i:i + BATCH]).numpy() for i in range(0, len(latents), BATCH)]
        return np.concatenate(parts).reshape(-1, 28, 28)

    def information_bits(self, latents):
        """Return each digit's information content in bits, float64 (N,), for float latents (N, latent_dims) (rounded
        here)."""
        latents = converted("latents", latents, lambda v: np.asarray(v, dtype=np.float32),
                            f"numbers shaped (N, {self.latent_dims})")
        if latents.ndim != 2 or latents.shape[1] != self.latent_dims:
            raise InputError(f"latents: expected shape (N, {self.latent_dims}), got {latents.shape}")
        _, bits = self.model.prior(latents, training=False)
        return bits.numpy().astype(np.float64)

    def compress(self, digits):
        """Return :class:`Compressed` strings for uint8 digits (N, 28, 28[, 1]), with each digit's information content
        in bits.

        Each string codes the digit's rounded latents, then their check value
        (:func:`string_checks`, 8 bits), which :meth:`decompress` verifies.
        """
        latents = self.latents(digits)
        integers = np.round(latents).astype(np.int64)
        values = np.concatenate([integers, string_checks(integers)[:, None]], axis=1)
        return Compressed(self._coder.compress(values), self.information_bits(latents))

    def decompress(self, strings):
        """Return uint8 digits (N, 28, 28) from strings written by :meth:`compress` with this model.

        Raises InputError when a string is not what this model's compressor
        writes: the check value it carries differs from that of the integers it
        decodes to (a truncated, damaged or foreign string, except by chance,
        1 in 256), or the range decoder refuses it. To decode arbitrary bytes
        on purpose use :meth:`decode_random`.
        """
        strings = self._check_strings(strings)
        decoded = self._coder.decompress(strings, (self.latent_dims + 1,))
        integers = decoded[:, :-1]
        bad = np.flatnonzero(decoded[:, -1] != string_checks(integers))
        if len(bad):
            which = f"strings[{bad[0]}]" if len(bad) == 1 else f"{len(bad)} of {len(strings)} strings (first: {bad[0]})"
            raise InputError(f"{which}: not what this model's compressor writes (the check value differs: "
                             "truncated, damaged, or written by another model)")
        return self.decode_latents(integers)

    def decode_random(self, payloads):
        """Return uint8 digits (N, 28, 28) decoded from arbitrary byte strings, e.g. ``os.urandom(8)`` (chapter 6).

        Nothing is checked: any bytes decode to some integer latents, which the
        synthesis transform turns into a digit.
        """
        payloads = self._check_strings(payloads)
        if self._permissive_coder is None:
            self._permissive_coder = RangeCoder(self._string_tables, decode_sanity_check=False)
        decoded = self._permissive_coder.decompress(payloads, (self.latent_dims + 1,))
        return self.decode_latents(decoded[:, :-1])

    def payload_bits(self, digits):
        """Return the length in bits of each digit's string without its check symbol: float64 (N,).

        The same integers, range-coded alone: what a codec that checks nothing
        would send, to compare like for like with payloads that carry no check
        (the DCT codec's strings, a JPEG's entropy-coded data). These strings are
        only measured: :meth:`decompress` needs the check.
        """
        integers = np.round(self.latents(digits)).astype(np.int64)
        if self._payload_coder is None:
            self._payload_coder = RangeCoder(self.tables)
        return string_bits(self._payload_coder.compress(integers)) if len(integers) else np.zeros(0)

    def measure(self, digits):
        """Compress and decompress uint8 digits; return their mean rates and the decoded digits' distortion.

        Returns a dict: ``digits`` (count), ``information_bits`` and
        ``real_bits`` (means per digit: the information content and the
        strings' real length), ``payload_bits`` (the strings' mean length without
        their 8-bit check, :meth:`payload_bits`), ``overhead_percent`` (real over
        information), ``mae`` (decoded uint8 digits vs originals, [0, 1] scale),
        ``psnr_db`` (one MSE over all pixels of all digits) and
        ``psnr_per_digit_db`` (the mean of each digit's PSNR, at least as high).
        """
        digits = as_digits(digits)
        compressed = self.compress(digits)
        decoded = self.decompress(compressed.strings)
        information, real = float(compressed.information_bits.mean()), float(compressed.bits.mean())
        return {
            "digits": len(digits),
            "information_bits": information,
            "real_bits": real,
            "payload_bits": float(self.payload_bits(digits).mean()),
            "overhead_percent": 100.0 * (real / information - 1.0) if information > 0 else float("inf"),
            "mae": mae(digits, decoded),
            "psnr_db": psnr(digits, decoded),
            "psnr_per_digit_db": float(np.mean(np.minimum(psnr_per_image(digits, decoded), 100.0))),
        }

    @staticmethod
    def _check_strings(strings):
        return check_strings(strings.strings if isinstance(strings, Compressed) else strings)

    def to_container(self, digits):
        """Return a :class:`~ldc.container.Container` of uint8 digits (N, 28, 28[, 1]): all of them in one stream."""
        digits = as_digits(digits)
        if len(digits) > MAX_COUNT:
            raise InputError(f"{len(digits):,} digits: a file holds at most {MAX_COUNT:,}; write several files")
        latents = self.latents(digits)
        return Container(self.fingerprint, len(latents), self._stream.encode(np.round(latents)), self.description)

    def from_container(self, container):
        """Return the uint8 digits (N, 28, 28) in a :class:`~ldc.container.Container` written with this model.

        Raises ContainerError when the container was written by another model
        (its fingerprint differs from this codec's), or its stream does not
        hold the digits it announces.
        """
        if not isinstance(container, Container):
            raise InputError(f"expected a Container (ldc.unpack or ldc.read_container makes one), "
                             f"got {type(container).__name__}")
        if container.fingerprint != self.fingerprint:
            raise ContainerError(f"the file was written by model {container.fingerprint.hex()} "
                                 f"({describe_model(container.description)}), not by this codec's model "
                                 f"{self.fingerprint.hex()}")
        return self.decode_latents(self.container_integers(container))

    def container_integers(self, container):
        """Return the integer latents int32 (N, latent_dims) coded in a container's stream (not checked for the model).

        A container cannot announce more digits than its payload can hold: each
        digit costs at least the tables' cheapest digit, so a count the
        payload's bits cannot pay for is refused before anything is decoded.
        """
        most = int((8 * len(container.payload) + STREAM_SLACK_BITS) / self.tables.cheapest_bits())
        if container.count > most:
            raise ContainerError(f"corrupted or foreign: it announces {container.count:,} digits, but its "
                                 f"{len(container.payload):,}-byte stream holds at most {most:,} under this model")
        try:
            return self._stream.decode(container.payload, container.count, (self.latent_dims,))
        except InputError as err:
            raise ContainerError(f"corrupted payload: {err}") from err

    def write(self, path, digits):
        """Compress uint8 digits into a container file at ``path`` (one stream); return the file's size in bytes."""
        return write_container(path, self.to_container(digits))

    def read(self, path):
        """Return the uint8 digits (N, 28, 28) stored in the container file at ``path``.

        Raises ContainerError when the file is damaged or foreign, or was
        written by another model.
        """
        container = read_container(path)  # its errors name the file
        try:
            return self.from_container(container)
        except ContainerError as err:
            raise ContainerError(f"{path}: {err}") from err
