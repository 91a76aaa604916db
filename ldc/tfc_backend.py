"""The tensorflow-compression backend: TFC's prior, rate and range coder (chapters 3 and 5, pinned stack).

The only ldc module that imports ``tensorflow_compression``. It exists where
TFC can be installed (Python 3.9-3.11, TensorFlow 2.14) and is what the
TensorFlow tutorial uses; :mod:`ldc.logistic` and :mod:`ldc.range_coding` do
the same jobs everywhere else.
"""
import numpy as np
import tensorflow_compression as tfc

from ldc._tf import tf
from ldc.errors import InputError
from ldc.tables import PRECISION


def distribution(scale):
    """Return ``tfc.NoisyLogistic`` with location 0 and the given scales (latent_dims,)."""
    return tfc.NoisyLogistic(loc=0.0, scale=scale)


def rate(prior_distribution, latents, training):
    """Return ``(latents_hat, bits)`` from TFC's ``ContinuousBatchedEntropyModel`` (see :func:`ldc.logistic.rate`)."""
    # The location is fixed at 0, so rounding to integers is already the best quantization
    # offset; offset_heuristic=False keeps TFC from re-deriving it (and warning) in every tf.function.
    model = tfc.ContinuousBatchedEntropyModel(prior_distribution, coding_rank=1, compression=False,
                                              offset_heuristic=False)
    return model(latents, training=training)


def _flat_cdf(tables):
    """TFC's table format: per channel, the precision and then the cumulative counts (0 .. 2**precision)."""
    rows = [np.concatenate([[PRECISION, 0], np.cumsum(counts[:size])])
            for counts, size in zip(tables.counts, tables.sizes)]
    return np.concatenate(rows).astype(np.int32)


# The tables an escaped value's code uses after the channels' own: a side (1 bit), a bit length (one of 32)
# and the distance's bits below its leading one, in whole bytes (each one of 256).
_SIDE_TABLE = np.concatenate([[1], np.arange(3)])
_LENGTH_TABLE = np.concatenate([[5], np.arange(33)])
_BYTE_TABLE = np.concatenate([[8], np.arange(257)])


class StringCoder:
    """Codes each item's integers into its own string with TFC's range coder, over ldc's integer tables.

    Strings are whole bytes: an item's symbols, then for each value outside
    its table (whose symbol is the table's escape), its side and the bit
    length of its distance from the table's edge, then those distances'
    bits, a byte each. Every part has a fixed size, so decoding is bounded by
    the number of integers, whatever the bytes: a string holding escapes
    decodes in three calls of TFC's decoder, one without in one. (TFC's own
    escape code is an Elias-gamma code read one bit at a time for as long as
    the bits say zero; past a string's end they all do, and a string ending
    right after an escape symbol made it run for ever.) An item with no
    value outside its tables, nearly every one, gets exactly the bytes
    ``tfc.ContinuousBatchedEntropyModel`` writes.

    Args:
      tables: the :class:`~ldc.tables.CodingTables`.
      coding_rank: 1 for (N, channels) latents, 2 for (N, blocks, channels).
      decode_sanity_check: False decodes any bytes at all (chapter 6).
    """

    def __init__(self, tables, coding_rank=1, decode_sanity_check=True):
        if coding_rank < 1:
            raise InputError(f"coding_rank={coding_rank}: expected 1 or more")
        self.tables = tables
        self.coding_rank = coding_rank
        self.decode_sanity_check = decode_sanity_check
        channels = tables.channels
        self._side, self._length, self._byte = channels, channels + 1, channels + 2
        self._lookup = tf.constant(np.concatenate([_flat_cdf(tables), _SIDE_TABLE, _LENGTH_TABLE, _BYTE_TABLE])
                                   .astype(np.int32))

    def _index(self, count):
        """Each of an item's ``count`` values' table: the channels, repeated."""
        return np.tile(np.arange(self.tables.channels, dtype=np.int32), count // self.tables.channels)

    def compress(self, values):
        """Return one ``bytes`` per item of integer ``values`` (N, ..., channels)."""
        values = np.asarray(values, dtype=np.int64).reshape(len(values), -1)
        index = self._index(values.shape[1])
        symbols = self.tables.symbols(values.reshape(len(values), -1, self.tables.channels)).reshape(values.shape)
        escaped = symbols == (self.tables.sizes - 1)[index]
        strings = [None] * len(values)
        plain = np.flatnonzero(~escaped.any(axis=1))
        if len(plain):
            handle = tfc.create_range_encoder([len(plain)], self._lookup)
            handle = tfc.entropy_encode_index(handle, np.broadcast_to(index, symbols[plain].shape), symbols[plain])
            for i, string in zip(plain, tfc.entropy_encode_finalize(handle).numpy()):
                strings[i] = bytes(string)
        for i in np.flatnonzero(escaped.any(axis=1)):
            handle = tfc.create_range_encoder([1], self._lookup)
            handle = tfc.entropy_encode_index(handle, index[None], symbols[i][None])
            heads, tails = [], []
            for j in np.flatnonzero(escaped[i]):
                side, length, rest = self._escape(int(values[i, j]), int(index[j]))
                heads += [(self._side, side), (self._length, length - 1)]
                tails += [(self._byte, b) for b in rest]
            for part in (heads, tails):
                if part:
                    tables, codes = zip(*part)
                    handle = tfc.entropy_encode_index(handle, np.array([tables], np.int32), np.array([codes], np.int32))
            strings[i] = bytes(tfc.entropy_encode_finalize(handle).numpy()[0])
        return strings

    def _escape(self, value, channel):
        """(side, bit length, bytes below the leading bit) of a value outside ``channel``'s table."""
        above, distance = self.tables.escape_split(channel, value)
        length = distance.bit_length()
        rest = distance - (1 << (length - 1))
        count = -(-(length - 1) // 8)
        return int(above), length, list(rest.to_bytes(count, "big")) if count else []

    def decompress(self, strings, item_shape):
        """Return int64 (N, *item_shape) decoded from one string per item (an escape may reach ±2**32).

        InputError (with the sanity check on) when a string fails TFC's
        sanity check or holds an escape no encoder writes.
        """
        count = int(np.prod(item_shape))
        index = self._index(count)
        handle = tfc.create_range_decoder(tf.constant(list(strings), dtype=tf.string), self._lookup)
        handle, symbols = tfc.entropy_decode_index(handle, np.broadcast_to(index, (len(strings), count)), [count],
                                                   tf.int32)
        sane = tfc.entropy_decode_finalize(handle).numpy()
        symbols = symbols.numpy().astype(np.int64)
        values = symbols + self.tables.offsets[index]
        for i in np.flatnonzero((symbols == (self.tables.sizes - 1)[index]).any(axis=1)):
            values[i], sane[i] = self._decode_with_escapes(strings[i], index)
        if self.decode_sanity_check and not sane.all():
            raise InputError("a compressed string failed the range decoder's sanity check: it was not made "
                             "with these coding tables, or it is corrupted")
        return values.reshape((len(strings),) + tuple(item_shape))

    def _decode_with_escapes(self, string, index):
        """Return (values int64 (count,), sane) of one string holding escapes: three calls of TFC's decoder."""
        handle = tfc.create_range_decoder(tf.constant([string], dtype=tf.string), self._lookup)

        def decode(tables):
            nonlocal handle
            if not len(tables):
                return np.zeros(0, np.int64)
            handle, decoded = tfc.entropy_decode_index(handle, np.array([tables], np.int32), [len(tables)], tf.int32)
            return decoded.numpy()[0].astype(np.int64)

        symbols = decode(index)
        values = symbols + self.tables.offsets[index]
        escapes = np.flatnonzero(symbols == (self.tables.sizes - 1)[index])
        heads = decode([self._side, self._length] * len(escapes))
        lengths = heads[1::2] + 1
        counts = -(-(lengths - 1) // 8)
        tails = decode([self._byte] * int(counts.sum()))
        sane, at = True, 0
        for j, side, length, count in zip(escapes, heads[0::2], lengths, counts):
            rest = int.from_bytes(bytes(int(b) for b in tails[at:at + count]), "big")
            at += count
            if rest >= 1 << (length - 1):  # more bits than the length says: no encoder wrote this
                sane, rest = False, rest & ((1 << (length - 1)) - 1)
            values[j] = self.tables.escaped_value(int(index[j]), bool(side), (1 << (length - 1)) + rest)
        return values, sane and bool(tfc.entropy_decode_finalize(handle).numpy()[0])
