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
from ldc.range_coding import LIMIT
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


def _flat_cdf(tables, escape=True):
    """TFC's table format: per channel, the precision and then the cumulative counts (0 .. 2**precision).

    A negative precision makes the last symbol TFC's escape (overflow) code:
    what the encoder writes with. Positive, the escape is decoded as a plain
    symbol and its value is left to :class:`StringCoder` (see there).
    """
    rows = []
    for counts, size in zip(tables.counts, tables.sizes):
        rows.append(np.concatenate([[-PRECISION if escape else PRECISION, 0], np.cumsum(counts[:size])]))
    return np.concatenate(rows).astype(np.int32)


# TFC codes an escaped value's distance from the table's edge as an Elias-gamma code of 1-bit symbols
# (range_coder_kernels.cc, OverflowDecode): zeros, a one, as many bits as there were zeros, and a sign. Its
# decoder reads zeros for as long as the bits say zero, and past the end of a string the bits are all zero:
# a string that ends right after an escape symbol makes that loop run for ever. No value the encoder
# writes (within +-2**24, range_coding.LIMIT) needs more zeros than this.
MAX_GAMMA_ZEROS = LIMIT.bit_length() + 1
_BIT_TABLE = np.array([1, 0, 1, 2], dtype=np.int32)  # precision 1, the cumulative counts of two equal symbols


class StringCoder:
    """Codes each item's integers into its own string with TFC's range coder, over ldc's integer tables.

    Strings are whole bytes. The tables' last symbol is TFC's overflow bin, so
    a value outside a table's range is coded by TFC's own escape mechanism:
    the strings are exactly what ``tfc.ContinuousBatchedEntropyModel`` writes.

    Decoding does not let TFC decode an escaped value, because its decoder
    does not bound that code's length (see ``MAX_GAMMA_ZEROS``): it decodes
    every symbol with the escape as a plain symbol, and a string that holds
    an escape again, one TFC call per symbol and per bit of the escape's
    code, stopping at the longest code an encoder writes. Identical results,
    bounded work, and the usual path (no escape) costs one call as before.

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
        self._model = tfc.ContinuousBatchedEntropyModel(
            prior=None, prior_shape=(tables.channels,), coding_rank=coding_rank, compression=True,
            cdf=_flat_cdf(tables), cdf_offset=tables.offsets, offset_heuristic=False,
            decode_sanity_check=decode_sanity_check, bottleneck_dtype=tf.float32)
        # The decoder's tables: every channel's with its escape as a plain symbol, then the 1-bit table.
        self._lookup = tf.constant(np.concatenate([_flat_cdf(tables, escape=False), _BIT_TABLE]))
        self._bit = tables.channels  # the 1-bit table's index in the lookup

    def compress(self, values):
        """Return one ``bytes`` per item of integer ``values`` (N, ..., channels)."""
        values = np.asarray(values, dtype=np.float32)
        strings = self._model.compress(np.round(values)).numpy()
        return [bytes(s) for s in strings]

    def decompress(self, strings, item_shape):
        """Return int32 (N, *item_shape) decoded from one string per item.

        InputError (with the sanity check on) when a string fails TFC's
        sanity check or holds an escape code longer than any encoder writes.
        """
        channels = self.tables.channels
        count = int(np.prod(item_shape))
        index = np.tile(np.arange(channels, dtype=np.int32), count // channels)  # each value's table
        escape = (self.tables.sizes - 1)[index]
        handle = tfc.create_range_decoder(tf.constant(list(strings), dtype=tf.string), self._lookup)
        handle, symbols = tfc.entropy_decode_index(handle, np.broadcast_to(index, (len(strings), count)), [count],
                                                  tf.int32)
        sane = tfc.entropy_decode_finalize(handle).numpy()
        symbols = symbols.numpy().astype(np.int64)
        for i in np.flatnonzero((symbols == escape).any(axis=1)):
            symbols[i], sane[i] = self._decode_with_escapes(strings[i], index)
        if self.decode_sanity_check and not sane.all():
            raise InputError("a compressed string failed the range decoder's sanity check: it was not made "
                             "with these coding tables, or it is corrupted")
        values = symbols + self.tables.offsets[index]
        return values.reshape((len(strings),) + tuple(item_shape)).astype(np.int32)

    def _decode_with_escapes(self, string, index):
        """Return (symbol indices int64 (count,), sane) of one string holding escapes, decoding them as TFC does."""
        handle = tfc.create_range_decoder(tf.constant([string], dtype=tf.string), self._lookup)

        def decode(table):
            nonlocal handle
            handle, decoded = tfc.entropy_decode_index(handle, np.array([[table]], np.int32), [1], tf.int32)
            return int(decoded.numpy()[0, 0])

        symbols, sane = np.empty(len(index), dtype=np.int64), True
        for j, table in enumerate(index):
            symbol = decode(table)
            top = int(self.tables.sizes[table]) - 1  # the escape symbol, TFC's max_value
            if symbol == top:
                zeros = 0
                while zeros <= MAX_GAMMA_ZEROS and decode(self._bit) == 0:
                    zeros += 1
                if zeros > MAX_GAMMA_ZEROS:  # no encoder wrote this: refuse it, or (permissive) stop at the edge
                    sane = False
                else:
                    gamma = 1
                    for _ in range(zeros):
                        gamma = gamma << 1 | decode(self._bit)
                    symbol = -gamma if decode(self._bit) else gamma + top - 1
            symbols[j] = symbol
        return symbols, sane and bool(tfc.entropy_decode_finalize(handle).numpy()[0])
