"""Priors, the training-time rate and the range coder, behind one interface on either backend (chapters 3 and 5).

The chapters use :class:`LogisticPrior` (the prior of a compression model),
:func:`prior_tables` (its integer coding tables) and :class:`RangeCoder` (one
string per digit). Underneath, :mod:`ldc.backends` picks the engine:
tensorflow-compression where it is installed (:mod:`ldc.tfc_backend`, as in
the TensorFlow tutorial), else the portable one (:mod:`ldc.logistic` for the
density and rate, :mod:`ldc.range_coding` for constriction's coder). Both
compute the same rate, and both coders code the same integers with the same
tables (:mod:`ldc.tables`); their per-digit strings differ in length only.

The method follows Ballé, Laparra & Simoncelli, "End-to-end Optimized Image
Compression" (ICLR 2017): uniform noise in training stands in for rounding at
test time, and the prior models the marginal density of the noisy latents.
"""
import importlib

import numpy as np

from ldc import logistic, range_coding, tables
from ldc._tf import tf
from ldc.backends import entropy_backend
from ldc.errors import InputError
from ldc.tables import CodingTables


def _engine(backend):
    """Return the module computing the prior's density and rate: ldc.tfc_backend or ldc.logistic.

    Imported here, outside any tf.function: a call traced by AutoGraph must not import.
    """
    return importlib.import_module("ldc.tfc_backend") if backend == "tfc" else logistic


class LogisticPrior(tf.keras.layers.Layer):
    """Noisy logistic prior: per latent dimension, a zero-centred logistic density convolved with U(-1/2, 1/2).

    Its only parameters are ``log_scales`` (latent_dims,), one learned log-scale
    per dimension. They are created with ``add_weight`` on purpose: Keras 3 does
    not track a bare ``tf.Variable`` set as an attribute, so scales made that way
    silently never train. ``backend`` ("tfc" or "portable") defaults to
    :func:`ldc.backends.entropy_backend`.
    """

    def __init__(self, latent_dims=50, backend=None, **kwargs):
        kwargs.setdefault("name", "prior")
        super().__init__(**kwargs)
        if isinstance(latent_dims, bool) or not isinstance(latent_dims, int) or latent_dims < 1:
            raise InputError(f"latent_dims={latent_dims!r}: expected a positive int")
        self.latent_dims = latent_dims
        self.backend = backend or entropy_backend()
        self._distribution, self._rate = _engine(self.backend).distribution, _engine(self.backend).rate
        self.log_scales = self.add_weight(name="log_scales", shape=(latent_dims,),
                                          initializer="zeros", trainable=True)

    def distribution(self):
        """Return the prior as a distribution with batch shape (latent_dims,) and ``prob`` / ``log_prob``.

        ``tfc.NoisyLogistic`` on the tensorflow-compression backend,
        :class:`ldc.logistic.NoisyLogistic` on the portable one.
        """
        return self._distribution(tf.exp(self.log_scales))

    def call(self, latents, training=False):
        """Return ``(latents_hat, bits)`` for float latents (batch, latent_dims).

        ``training=True``: latents plus U(-1/2, 1/2) noise, and their differentiable
        cost in bits per digit under the noisy prior (chapter 3: an upper bound only
        for dithered quantization with shared noise; for rounding it is usually, not
        provably, above the test rate). ``training=False``: latents rounded to
        integers, and their exact information content in bits per digit (the
        length an ideal entropy coder would reach). ``bits`` has shape (batch,).
        """
        return self._rate(self.distribution(), latents, training)

    def density(self, values):
        """Return the noisy prior's density at ``values`` (n,) for every dimension: float32 (n, latent_dims)."""
        values = tf.reshape(tf.cast(values, tf.float32), (-1, 1))
        return self.distribution().prob(values)

    def get_config(self):
        return {**super().get_config(), "latent_dims": self.latent_dims}


def prior_tables(prior):
    """Return the :class:`CodingTables` of a trained :class:`LogisticPrior` (one table per latent dimension)."""
    if not isinstance(prior, LogisticPrior):
        raise InputError(f"prior_tables: expected a LogisticPrior (a model's .prior), got {type(prior).__name__}")
    return tables.prior_tables(np.asarray(prior.log_scales.numpy()))


def pmf_tables(pmfs, offsets):
    """Return :class:`CodingTables` from discrete probabilities (see :func:`ldc.tables.pmf_tables`)."""
    return tables.pmf_tables(pmfs, offsets)


class RangeCoder:
    """One string per item over fixed :class:`CodingTables`, with the backend's range coder.

    tensorflow-compression's coder writes whole bytes; constriction's (portable)
    writes whole 32-bit words. Both decode the same integers.

    Args:
      tables: the CodingTables; their channel count is the size of the last axis.
      coding_rank: number of trailing axes coded into each string: 1 for
        (N, channels) latents, 2 for (N, blocks, channels) DCT coefficients.
      backend: "tfc" or "portable"; defaults to :func:`ldc.backends.entropy_backend`.
      decode_sanity_check: when True, a string that does not decode cleanly
        raises InputError; False decodes any bytes at all (chapter 6 feeds it
        random bits on purpose): tensorflow-compression skips its check, and
        constriction's coder decodes the longest prefix it accepts.
    """

    def __init__(self, tables, coding_rank=1, backend=None, decode_sanity_check=True):
        if not isinstance(tables, CodingTables):
            raise InputError(f"RangeCoder: expected CodingTables, got {type(tables).__name__}")
        if isinstance(coding_rank, bool) or not isinstance(coding_rank, int) or coding_rank < 1:
            raise InputError(f"coding_rank={coding_rank}: expected 1 or more")
        self.tables = tables
        self.coding_rank = coding_rank
        self.backend = backend or entropy_backend()
        self.decode_sanity_check = decode_sanity_check
        if self.backend == "tfc":
            self._coder = _engine("tfc").StringCoder(tables, coding_rank, decode_sanity_check)
        else:
            self._coder = range_coding.StringCoder(tables, coding_rank)

    def compress(self, values):
        """Return one ``bytes`` per item of ``values`` (N, ..., channels), rounded to integers first."""
        values = range_coding.check_values(values, self.tables, self.coding_rank)
        if len(values) == 0:
            return []
        return self._coder.compress(values)

    def decompress(self, strings, item_shape):
        """Return int32 (N, *item_shape) decoded from ``strings`` (a sequence of ``bytes``).

        ``item_shape`` is the shape of one item, ending in the channel count:
        (channels,) for coding_rank 1, (blocks, channels) for 2.
        """
        item_shape = range_coding.check_item_shape(item_shape, self.tables, self.coding_rank)
        strings = range_coding.check_strings(strings)
        if not strings:
            return np.zeros((0,) + item_shape, dtype=np.int32)
        if self.backend == "portable":
            return self._coder.decompress(strings, item_shape, permissive=not self.decode_sanity_check)
        values = self._coder.decompress(strings, item_shape)
        if self.decode_sanity_check:
            return range_coding.check_decoded(values)
        return np.clip(values, -range_coding.LIMIT, range_coding.LIMIT).astype(np.int32)  # any bytes: some integers
