"""Integer coding tables: the probabilities both range coders use, computed by ldc and stored with each model
(chapter 5).

One table per channel (a latent dimension, or a DCT frequency): integer
counts for the values ``offset .. offset + size - 2``, then one *escape*
count that stands for every value outside that range (the value itself then
follows in the stream, so nothing is ever uncodable). Every count is at
least 1 and each table sums to ``2**PRECISION``.

The tables are made once, in float64 and then integers, by a deterministic
rule, and stored with the model and fingerprinted: recomputing them on
another machine (another numpy or TensorFlow) could change one count by one,
and encoder and decoder must agree on every count or decoding derails. This
module needs only numpy.
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ldc.errors import InputError, converted

PRECISION = 16  # bits of the counts: tensorflow-compression's range coder allows at most 16
TOTAL = 1 << PRECISION
MAX_SYMBOLS = 4096  # values per table; a wider prior codes its rare values through the escape
# A prior's table covers the integers whose probability is worth at least about one count;
# beyond that, a value costs the escape plus its own bits (a few dozen), which is rare enough.
TAIL_PER_SIDE = 2.0 ** -(PRECISION + 1)


@dataclass(frozen=True)
class CodingTables:
    """Integer tables: ``counts`` int32 (channels, width), ``offsets`` int32 (channels,), ``sizes`` int32 (channels,).

    Row ``c`` holds ``sizes[c] - 1`` counts for the values ``offsets[c]`` upwards,
    then the escape count, then zeros up to ``width``. Each row's first
    ``sizes[c]`` counts are >= 1 and sum to ``2**PRECISION``.
    """

    counts: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray

    def __post_init__(self):
        def integers(name):
            return converted(name, getattr(self, name), lambda v: np.array(v, dtype=np.int64), "integers")

        counts, offsets, sizes = integers("counts"), integers("offsets").reshape(-1), integers("sizes").reshape(-1)
        if counts.ndim != 2 or len(counts) == 0 or len(counts) != len(offsets) or len(sizes) != len(offsets):
            raise InputError(f"coding tables: counts {counts.shape}, offsets {offsets.shape} and sizes {sizes.shape} "
                             "do not describe one table per channel")
        if np.any(sizes < 2) or np.any(sizes > counts.shape[1]) or counts.shape[1] > MAX_SYMBOLS + 1:
            raise InputError(f"coding tables: sizes must lie in 2..{min(counts.shape[1], MAX_SYMBOLS + 1)}")
        used = np.arange(counts.shape[1]) < sizes[:, None]
        if np.any(counts[used] < 1) or np.any(counts[~used] != 0) or np.any(counts.sum(axis=1) != TOTAL):
            raise InputError(f"coding tables: each row needs counts >= 1 for its symbols, zeros after them, "
                             f"and a sum of 2**{PRECISION}")
        if np.any(np.abs(offsets) > 2 ** 30):
            raise InputError("coding tables: offsets out of range")
        object.__setattr__(self, "counts", counts.astype(np.int32))
        object.__setattr__(self, "offsets", offsets.astype(np.int32))
        object.__setattr__(self, "sizes", sizes.astype(np.int32))

    @property
    def channels(self):
        """Number of tables (one per latent dimension or DCT frequency)."""
        return len(self.offsets)

    def arrays(self):
        """Return the tables as named arrays, for storing (see :meth:`from_arrays`)."""
        return {"counts": self.counts, "offsets": self.offsets, "sizes": self.sizes}

    @classmethod
    def from_arrays(cls, arrays):
        """Return the tables stored by :meth:`arrays`."""
        return cls(arrays["counts"], arrays["offsets"], arrays["sizes"])

    def probabilities(self):
        """Return the tables as float32 probabilities (channels, width): counts / 2**PRECISION, exact."""
        return (self.counts.astype(np.float64) / TOTAL).astype(np.float32)

    def bits(self, values):
        """Return the ideal code length in bits of integer ``values`` (..., channels) under these tables: float64 (...).

        A value outside a table's range costs its escape count's bits; the
        escape's own payload is not counted.
        """
        values = np.asarray(values)
        index = self.symbols(values)
        counts = np.take_along_axis(np.broadcast_to(self.counts, values.shape[:-1] + self.counts.shape),
                                    index[..., None].astype(np.intp), axis=-1)[..., 0]
        return np.sum(PRECISION - np.log2(counts), axis=-1)

    def cheapest_bits(self):
        """Return the fewest bits any item can cost: every channel at its most probable value (float)."""
        return float(np.sum(PRECISION - np.log2(self.counts.max(axis=1))))

    def with_check(self, symbols=256):
        """Return these tables plus one channel of ``symbols`` (almost) equally likely values 0..symbols-1.

        The codec codes a check value of each digit's integers there (see
        :meth:`ldc.codec.Codec.compress`): about log2(symbols) bits.
        """
        if not 2 <= symbols <= TOTAL // 2:
            raise InputError(f"symbols={symbols}: expected 2..{TOTAL // 2}")
        each = TOTAL // (symbols + 1)
        row = np.zeros(max(self.counts.shape[1], symbols + 1), dtype=np.int64)
        row[:symbols] = each
        row[symbols] = TOTAL - each * symbols  # the escape takes the rest
        counts = np.zeros((self.channels + 1, len(row)), dtype=np.int64)
        counts[:-1, :self.counts.shape[1]] = self.counts
        counts[-1] = row
        return CodingTables(counts, np.append(self.offsets, 0), np.append(self.sizes, symbols + 1))

    def symbols(self, values):
        """Return each value's symbol index in its channel's table, the escape index for values outside it: int32."""
        shifted = np.asarray(values, dtype=np.int64) - self.offsets
        escape = self.sizes - 1
        inside = (shifted >= 0) & (shifted < escape)
        return np.where(inside, shifted, escape).astype(np.int32)

    def escape_split(self, channel, value):
        """(above, distance) of a ``value`` outside ``channel``'s table: which edge, and how far past it (>= 1).

        What both backends' escape codes write after the escape symbol; :meth:`escaped_value` undoes it.
        """
        low = int(self.offsets[channel])
        high = low + int(self.sizes[channel]) - 2
        return (True, value - high) if value > high else (False, low - value)

    def escaped_value(self, channel, above, distance):
        """The value ``distance`` past ``channel``'s table, above its last value or below its first."""
        low = int(self.offsets[channel])
        return low + int(self.sizes[channel]) - 2 + distance if above else low - distance


def quantize_pmf(pmf):
    """Return int64 counts (>= 1 each, summing to 2**PRECISION) for a probability vector (float64, sums to about 1).

    Each symbol gets one count for free and a share of the rest in proportion
    to its probability (rounded down); the counts left over go to the largest
    remainders, ties to the lower index. Integer arithmetic after one float64
    product, so the same input gives the same counts everywhere.
    """
    pmf = converted("pmf", pmf, lambda v: np.asarray(v, dtype=np.float64), "probabilities")
    if pmf.ndim != 1 or len(pmf) < 2 or len(pmf) > TOTAL // 2:
        raise InputError(f"pmf: expected 2..{TOTAL // 2} probabilities, got shape {pmf.shape}")
    if not np.all(np.isfinite(pmf)) or np.any(pmf < 0) or pmf.sum() <= 0:
        raise InputError("pmf: expected finite, non-negative probabilities with a positive sum")
    spare = TOTAL - len(pmf)
    scaled = pmf / pmf.sum() * spare
    counts = np.floor(scaled).astype(np.int64)
    left = spare - int(counts.sum())
    order = np.argsort(-(scaled - counts), kind="stable")
    counts[order[:left]] += 1
    return counts + 1


def _tables(rows, offsets):
    width = max(len(row) for row in rows)
    counts = np.zeros((len(rows), width), dtype=np.int64)
    for c, row in enumerate(rows):
        counts[c, :len(row)] = row
    return CodingTables(counts, offsets, [len(row) for row in rows])


def logistic_masses(values, scale):
    """Return the noisy logistic prior's probability of each integer in ``values`` (float64), for one scale.

    P(k) = F(k + 1/2) - F(k - 1/2), F the logistic CDF of the given scale,
    written with |k| so that both tails are differences of small numbers
    rather than of numbers close to 1.
    """
    t = np.abs(np.asarray(values, dtype=np.float64))
    return expit((0.5 - t) / scale) - expit((-0.5 - t) / scale)


def prior_tables(log_scales):
    """Return :class:`CodingTables` for the noisy logistic prior with these per-dimension log-scales (latent_dims,)."""
    log_scales = converted("log_scales", log_scales, lambda v: np.asarray(v, dtype=np.float32), "numbers").reshape(-1)
    if len(log_scales) == 0 or not np.all(np.isfinite(log_scales)):
        raise InputError("log_scales: expected finite values, one per latent dimension")
    rows, offsets = [], []
    for scale in np.exp(log_scales.astype(np.float64)):
        # P(Y > K + 1/2) = expit(-(K + 1/2) / scale) <= TAIL_PER_SIDE
        reach = int(np.ceil(scale * np.log1p(1.0 / TAIL_PER_SIDE) - 0.5))
        reach = min(max(reach, 0), (MAX_SYMBOLS - 1) // 2)
        values = np.arange(-reach, reach + 1)
        escape = 2.0 * expit(-(reach + 0.5) / scale)
        rows.append(quantize_pmf(np.append(logistic_masses(values, scale), escape)))
        offsets.append(-reach)
    return _tables(rows, offsets)


def pmf_tables(pmfs, offsets):
    """Return :class:`CodingTables` from discrete probabilities, one row per channel (the DCT codec's tables).

    Args:
      pmfs: a sequence of float rows, one per channel (rows may differ in
        length): ``pmfs[c][i]`` is the probability of the integer
        ``offsets[c] + i``; a row may sum to less than 1, the rest being the
        probability of values outside its range (the escape).
      offsets: int (channels,), the smallest value each row covers.
    """
    rows = converted("pmfs", pmfs, lambda v: [np.asarray(row, dtype=np.float64) for row in v], "rows of probabilities")
    offsets = converted("offsets", offsets, lambda v: np.asarray(v, dtype=np.int64), "integers").reshape(-1)
    if len(rows) == 0 or len(rows) != len(offsets):
        raise InputError(f"{len(rows)} pmfs and {len(offsets)} offsets: expected one offset per row")
    for row in rows:
        if row.ndim != 1 or not 1 <= len(row) <= MAX_SYMBOLS:
            raise InputError(f"pmfs: expected rows of 1..{MAX_SYMBOLS} probabilities, got shape {row.shape}")
        if not np.all(np.isfinite(row)) or np.any(row < 0) or row.sum() > 1 + 1e-6:
            raise InputError("pmfs: expected finite non-negative rows summing to at most 1")
    return _tables([quantize_pmf(np.append(row, max(1.0 - row.sum(), 0.0))) for row in rows], offsets)
