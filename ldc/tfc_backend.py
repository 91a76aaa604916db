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
    """TFC's table format: per channel, -precision and then the cumulative counts (0 .. 2**precision)."""
    rows = []
    for counts, size in zip(tables.counts, tables.sizes):
        rows.append(np.concatenate([[-PRECISION, 0], np.cumsum(counts[:size])]))
    return np.concatenate(rows).astype(np.int32)


class StringCoder:
    """Codes each item's integers into its own string with TFC's range coder, over ldc's integer tables.

    Strings are whole bytes. The tables' last symbol is TFC's overflow bin, so
    a value outside a table's range is coded by TFC's own escape mechanism.

    Args:
      tables: the :class:`~ldc.tables.CodingTables`.
      coding_rank: 1 for (N, channels) latents, 2 for (N, blocks, channels).
      decode_sanity_check: False decodes any bytes at all (chapter 6).
    """

    def __init__(self, tables, coding_rank=1, decode_sanity_check=True):
        if coding_rank < 1:
            raise ValueError(f"coding_rank={coding_rank}: expected 1 or more")
        self.tables = tables
        self.coding_rank = coding_rank
        self._model = tfc.ContinuousBatchedEntropyModel(
            prior=None, prior_shape=(tables.channels,), coding_rank=coding_rank, compression=True,
            cdf=_flat_cdf(tables), cdf_offset=tables.offsets, offset_heuristic=False,
            decode_sanity_check=decode_sanity_check, bottleneck_dtype=tf.float32)

    def compress(self, values):
        """Return one ``bytes`` per item of integer ``values`` (N, ..., channels)."""
        values = np.asarray(values, dtype=np.float32)
        strings = self._model.compress(np.round(values)).numpy()
        return [bytes(s) for s in strings]

    def decompress(self, strings, item_shape):
        """Return int32 (N, *item_shape) decoded from one string per item."""
        try:
            decoded = self._model.decompress(tf.constant(list(strings), dtype=tf.string), item_shape[:-1])
        except tf.errors.InvalidArgumentError as err:
            raise InputError("a compressed string failed the range decoder's sanity check: it was not made "
                             "with these coding tables, or it is corrupted") from err
        return decoded.numpy().astype(np.int32)
