"""Priors, the training-time rate and the range coder (chapters 3 and 5).

This is the only ldc module that imports ``tensorflow_compression``: the
prior's density, the differentiable rate used in training, the information
content of quantized latents, the integer tables of the range coder and the
coder itself all live here, so that a second implementation of the same math
without tensorflow-compression (for Keras 3 / newer Python) can replace this
one module without touching the chapters.

The method follows Ballé, Laparra & Simoncelli, "End-to-end Optimized Image
Compression" (ICLR 2017): uniform noise in training stands in for rounding at
test time, and the prior models the marginal density of the noisy latents.
"""
from dataclasses import dataclass

import numpy as np
import tensorflow_compression as tfc

from ldc._tf import tf
from ldc.errors import InputError

RANGE_CODER_PRECISION = 12  # bits of the range coder's integer probabilities (TFC's default)


class LogisticPrior(tf.keras.layers.Layer):
    """Noisy logistic prior: per latent dimension, a zero-centred logistic density convolved with U(-1/2, 1/2).

    Its only parameters are ``log_scales`` (latent_dims,), one learned log-scale
    per dimension. They are created with ``add_weight`` on purpose: Keras 3 does
    not track a bare ``tf.Variable`` set as an attribute, so scales made that way
    silently never train.
    """

    def __init__(self, latent_dims=50, **kwargs):
        kwargs.setdefault("name", "prior")
        super().__init__(**kwargs)
        if isinstance(latent_dims, bool) or not isinstance(latent_dims, int) or latent_dims < 1:
            raise ValueError(f"latent_dims={latent_dims!r}: expected a positive int")
        self.latent_dims = latent_dims
        self.log_scales = self.add_weight(name="log_scales", shape=(latent_dims,),
                                          initializer="zeros", trainable=True)

    def distribution(self):
        """Return the prior as a ``tfc.NoisyLogistic`` with batch shape (latent_dims,)."""
        return tfc.NoisyLogistic(loc=0.0, scale=tf.exp(self.log_scales))

    def call(self, latents, training=False):
        """Return ``(latents_hat, bits)`` for float latents (batch, latent_dims).

        ``training=True``: latents plus U(-1/2, 1/2) noise, and a differentiable
        upper bound on the bits per digit. ``training=False``: latents rounded to
        integers, and their exact information content in bits per digit (the
        length an ideal entropy coder would reach). ``bits`` has shape (batch,).
        """
        # The location is fixed at 0, so rounding to integers is already the best
        # quantization offset; offset_heuristic=False also keeps TFC from
        # re-deriving it (and warning) inside every tf.function.
        model = tfc.ContinuousBatchedEntropyModel(self.distribution(), coding_rank=1,
                                                  compression=False, offset_heuristic=False)
        return model(latents, training=training)

    def density(self, values):
        """Return the noisy prior's density at ``values`` (n,) for every dimension: float32 (n, latent_dims)."""
        values = tf.reshape(tf.cast(values, tf.float32), (-1, 1))
        return self.distribution().prob(values)

    def get_config(self):
        return {**super().get_config(), "latent_dims": self.latent_dims}


@dataclass(frozen=True)
class CodingTables:
    """Integer tables of the range coder: ``cdf`` flat int32 (per channel: -precision, then the CDF), ``cdf_offset`` (channels,) int32.

    Encoder and decoder must use the very same tables: rebuilding them from
    the prior on another machine can differ in the last bit and derail
    decoding. So they are built once, stored with the model, and fingerprinted.
    """

    cdf: np.ndarray
    cdf_offset: np.ndarray

    def __post_init__(self):
        cdf = np.asarray(self.cdf, dtype=np.int32).reshape(-1)
        cdf_offset = np.asarray(self.cdf_offset, dtype=np.int32).reshape(-1)
        if cdf.size == 0 or cdf_offset.size == 0 or cdf[0] >= 0:
            raise ValueError("coding tables: expected a flat CDF starting with -precision and one offset per channel")
        if int(np.sum(cdf < 0)) != cdf_offset.size:
            raise ValueError(f"coding tables: {int(np.sum(cdf < 0))} CDFs but {cdf_offset.size} offsets")
        object.__setattr__(self, "cdf", cdf)
        object.__setattr__(self, "cdf_offset", cdf_offset)

    @property
    def channels(self):
        """Number of independent symbol alphabets (one per latent dimension or DCT frequency)."""
        return len(self.cdf_offset)


def prior_tables(prior):
    """Return the :class:`CodingTables` for a trained :class:`LogisticPrior` (one channel per latent dimension)."""
    model = tfc.ContinuousBatchedEntropyModel(prior.distribution(), coding_rank=1, compression=True,
                                              offset_heuristic=False,
                                              range_coder_precision=RANGE_CODER_PRECISION)
    return CodingTables(model.cdf.numpy(), model.cdf_offset.numpy())


def pmf_tables(pmfs, offsets):
    """Return :class:`CodingTables` from discrete probabilities, one row per channel.

    Args:
      pmfs: float (channels, length): ``pmfs[c, i]`` is the probability of the
        integer ``offsets[c] + i``; a row may sum to less than 1, the rest being
        the mass of values outside its range, which the coder still encodes
        losslessly (with an escape code).
      offsets: int (channels,), the smallest value each row covers.
    """
    pmfs = np.asarray(pmfs, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    if pmfs.ndim != 2 or len(pmfs) != len(offsets) or pmfs.shape[1] < 1:
        raise ValueError(f"pmfs {pmfs.shape} and offsets {offsets.shape}: expected (channels, length) and (channels,)")
    if not np.all(np.isfinite(pmfs)) or np.any(pmfs < 0) or np.any(pmfs.sum(axis=1) > 1 + 1e-6):
        raise ValueError("pmfs: expected finite non-negative rows summing to at most 1")
    flat = []
    for row in pmfs:
        overflow = max(1.0 - float(row.sum()), 0.0)
        pmf = tf.constant(np.append(row, overflow), dtype=tf.float32)
        cdf = tfc.pmf_to_quantized_cdf(pmf, precision=RANGE_CODER_PRECISION).numpy()
        flat.append(np.concatenate([[-RANGE_CODER_PRECISION], cdf]))
    return CodingTables(np.concatenate(flat), offsets)


class RangeCoder:
    """Range coder over fixed :class:`CodingTables`: integer arrays to one byte string per item, and back.

    Args:
      tables: the CodingTables; their channel count is the size of the last axis.
      coding_rank: number of trailing axes coded into each string: 1 for
        (N, channels) latents, 2 for (N, blocks, channels) DCT coefficients.
      decode_sanity_check: when True, a string that does not decode cleanly
        raises InputError; False decodes any bytes at all (chapter 6 feeds it
        random bits on purpose).
    """

    def __init__(self, tables, coding_rank=1, decode_sanity_check=True):
        if coding_rank < 1:
            raise ValueError(f"coding_rank={coding_rank}: expected 1 or more")
        self.tables = tables
        self.coding_rank = coding_rank
        self._model = tfc.ContinuousBatchedEntropyModel(
            prior=None, prior_shape=(tables.channels,), coding_rank=coding_rank, compression=True,
            cdf=tables.cdf, cdf_offset=tables.cdf_offset, offset_heuristic=False,
            decode_sanity_check=decode_sanity_check, bottleneck_dtype=tf.float32)

    def compress(self, values):
        """Return one ``bytes`` per item of ``values`` (N, ..., channels), rounded to integers first."""
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != self.coding_rank + 1 or values.shape[-1] != self.tables.channels:
            raise InputError(f"values {values.shape}: expected {self.coding_rank + 1} axes ending in "
                             f"{self.tables.channels} channels")
        if not np.all(np.isfinite(values)):
            raise InputError("values: NaN or infinite values cannot be range-coded")
        strings = self._model.compress(values).numpy()
        return [bytes(s) for s in strings]

    def decompress(self, strings, item_shape):
        """Return float32 (N, *item_shape) integers decoded from ``strings`` (a sequence of ``bytes``).

        ``item_shape`` is the shape of one item, ending in the channel count:
        (channels,) for coding_rank 1, (blocks, channels) for 2.
        """
        item_shape = tuple(int(n) for n in item_shape)
        if len(item_shape) != self.coding_rank or item_shape[-1] != self.tables.channels:
            raise ValueError(f"item_shape={item_shape}: expected {self.coding_rank} axes ending in {self.tables.channels}")
        if len(strings) == 0:
            return np.zeros((0,) + item_shape, dtype=np.float32)
        try:
            decoded = self._model.decompress(tf.constant(list(strings), dtype=tf.string), item_shape[:-1])
        except tf.errors.InvalidArgumentError as err:
            raise InputError("a compressed string failed the range decoder's sanity check: it was not made "
                             "with these coding tables, or it is corrupted") from err
        return decoded.numpy()
