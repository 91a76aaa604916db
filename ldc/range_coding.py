"""Range coding with constriction over ldc's integer tables: one stream for a file, or one string per item (chapter 5).

constriction (Bamler's Rust library of entropy coders) does the coding; this
module decides the order of the symbols and codes the values a table does not
cover. A value outside its channel's table is written as the table's escape
symbol, and after the symbols come, in the same order, its side (1 bit), its
distance from the table's edge as an Elias-gamma code (bit length, then the
bits) from constriction's uniform models. So every int32 value codes
losslessly (every integer within ±2**24), and typical values pay nothing for
the possibility. Every part of that code has a fixed size (a bit length is
one symbol of 32), so decoding does a bounded amount of work per integer,
whatever the bytes.

constriction writes whole 32-bit words. In one stream that costs at most a
word or two per file (its bytes are the words, little-endian). For one string
per digit it would cost that much per digit, so a string keeps only the bytes
its decoder needs: the words big-endian, cut to the fewest leading bytes that
still decode to the same integers, checked when encoding. constriction's
decoder reads the words past the end of its input as zeros, and this module
reads a cut word's missing bytes as zeros too: any bytes decode to something. So a stream ends with a
32-bit check of the integers it holds (CRC-32), which the decoder verifies,
together with having used up the stream: a stream decoded with the wrong
count, the wrong tables, cut short or altered is refused (except by chance,
1 in 2**32). This module needs only numpy and constriction.
"""
import struct
import zlib

import numpy as np

from ldc.errors import InputError, converted

# The integers either coder takes: float32 (latents, and tensorflow-compression's coder) holds every
# integer only up to 2**24, and TFC's coder crashes on values near 2**31.
LIMIT = 2 ** 24
_LENGTH_BITS = 32  # an escaped distance from a table's edge has 1..32 bits (values within LIMIT, offsets within 2**30)
_CHUNK_BITS = 16  # raw bits per uniform symbol
# The most bits constriction's decoder can read for one value: at most five symbols (the value's own, and an
# escape's side, bit length and up to two chunks of distance), each at most 24 bits (its models' precision).
_MAX_BITS_PER_VALUE = 5 * 24


def _constriction():
    try:
        import constriction
    except ImportError as err:  # a clear line instead of a bare ModuleNotFoundError
        raise ImportError("ldc's range coder needs constriction (pip install constriction==0.5.0)") from err
    return constriction


class _Models:
    """constriction's categorical models for a set of tables, built once (they quantize the float32 counts)."""

    def __init__(self, tables):
        c = _constriction()
        probabilities = tables.probabilities()
        self.tables = tables
        self.channels = [c.stream.model.Categorical(probabilities[i, :tables.sizes[i]], perfect=False)
                         for i in range(tables.channels)]
        self.bit = c.stream.model.Uniform(2)
        self.length = c.stream.model.Uniform(_LENGTH_BITS)
        self.chunks = {bits: c.stream.model.Uniform(1 << bits) for bits in range(1, _CHUNK_BITS + 1)}


def _encode_escape(encoder, models, value, channel):
    above, gamma = models.tables.escape_split(channel, value)
    length = gamma.bit_length()
    encoder.encode(int(above), models.bit)
    encoder.encode(length - 1, models.length)
    remaining = length - 1
    while remaining > 0:
        bits = min(remaining, _CHUNK_BITS)
        remaining -= bits
        encoder.encode((gamma >> remaining) & ((1 << bits) - 1), models.chunks[bits])


def _decode_escape(decoder, models, channel):
    above = int(decoder.decode(models.bit))
    length = int(decoder.decode(models.length)) + 1
    gamma, remaining = 1, length - 1
    while remaining > 0:
        bits = min(remaining, _CHUNK_BITS)
        remaining -= bits
        gamma = (gamma << bits) | int(decoder.decode(models.chunks[bits]))
    return models.tables.escaped_value(channel, above, gamma)


def check_values(values, tables, rank):
    values = np.asarray(values)
    if values.ndim != rank + 1 or values.shape[-1] != tables.channels:
        raise InputError(f"values {values.shape}: expected {rank + 1} axes ending in {tables.channels} channels")
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise InputError(f"values: expected integers (or floats to round), got dtype {values.dtype}")
    if np.issubdtype(values.dtype, np.floating):
        if not np.all(np.isfinite(values)):
            raise InputError("values: NaN or infinite values cannot be range-coded")
        values = np.round(values)
    if values.size and np.max(np.abs(values)) > LIMIT:
        raise InputError(f"values: integers beyond ±{LIMIT:,} (2**24) cannot be range-coded; the largest is "
                         f"{np.max(np.abs(values)):.6g}")
    return values.astype(np.int64)


def check_decoded(values):
    """Return ``values`` as int32; InputError when one lies beyond ±LIMIT (no encoder writes such a value)."""
    if values.size and np.max(np.abs(values)) > LIMIT:
        raise InputError(f"the bytes decode to values beyond ±{LIMIT:,}: they are corrupted, or were not "
                         "written with these tables")
    return values.astype(np.int32)


def stream_check(values):
    """Return the CRC-32 of integer ``values`` (rows, channels): their shape, then each as int32 little-endian."""
    values = np.ascontiguousarray(values, dtype="<i4")
    return zlib.crc32(values.tobytes(), zlib.crc32(struct.pack("<II", *values.shape)))


def readable_bytes(values):
    """Return how many bytes of a string constriction's decoder can read at most for ``values`` integers."""
    return 4 * (2 + -(-values * _MAX_BITS_PER_VALUE // 32))


def _to_string(words):
    """A per-item string's bytes: the words big-endian, so that its last bytes are the least significant ones."""
    return np.asarray(words, dtype=">u4").tobytes()


def _from_string(data):
    """The words of a per-item string: a cut last word's missing (least significant) bytes read as zeros."""
    data = bytes(data) + bytes(-len(data) % 4)
    return np.frombuffer(data, dtype=">u4").astype(np.uint32)


def _to_bytes(words):
    return np.asarray(words, dtype="<u4").tobytes()


def _to_words(data):
    # constriction's decoder reads missing words as zeros; a partial last word is read the same way.
    data = bytes(data) + bytes(-len(data) % 4)
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def check_strings(strings):
    """Return ``strings`` as a list of ``bytes``; InputError for anything else (None, one string, other items)."""
    if isinstance(strings, (bytes, bytearray, str)):
        raise InputError("strings: expected a sequence of byte strings, got a single string")
    strings = converted("strings", strings, list, "a sequence of byte strings")
    for i, s in enumerate(strings):
        if not isinstance(s, (bytes, bytearray, np.bytes_)):
            raise InputError(f"strings[{i}]: expected bytes, got {type(s).__name__}")
    return [bytes(s) for s in strings]


def check_item_shape(item_shape, tables, rank):
    item_shape = converted("item_shape", item_shape, lambda v: tuple(int(n) for n in v), "a tuple of sizes")
    if len(item_shape) != rank or item_shape[-1] != tables.channels or min(item_shape) < 1:
        raise InputError(f"item_shape={item_shape}: expected {rank} positive sizes ending in {tables.channels}")
    return item_shape


class _Coder:
    """What both constriction coders hold: the tables, the coding rank and the per-channel models.

    Args:
      tables: the :class:`~ldc.tables.CodingTables`, one per channel.
      coding_rank: 1 for (N, channels) latents, 2 for (N, blocks, channels).
    """

    def __init__(self, tables, coding_rank=1):
        if coding_rank < 1:
            raise InputError(f"coding_rank={coding_rank}: expected 1 or more")
        self.tables = tables
        self.coding_rank = coding_rank
        self._models = _Models(tables)


class StreamCoder(_Coder):
    """Codes the integers of many items in one stream: what a file of digits holds.

    Symbols go channel by channel (every item's value of channel 0, then of
    channel 1, ...), so each channel's model codes one long run; the escaped
    values follow, in the same order, then the stream's check
    (:func:`stream_check`, two 16-bit symbols). Arguments as :class:`_Coder`.
    """

    def encode(self, values):
        """Return one ``bytes`` holding every integer of ``values`` (N, ..., channels); floats are rounded first."""
        values = check_values(values, self.tables, self.coding_rank)
        columns = values.reshape(-1, self.tables.channels)
        symbols = self.tables.symbols(columns)
        escaped = symbols == self.tables.sizes - 1
        encoder = _constriction().stream.queue.RangeEncoder()
        for c, model in enumerate(self._models.channels):
            encoder.encode(np.ascontiguousarray(symbols[:, c]), model)
        for c in range(self.tables.channels):
            for value in columns[escaped[:, c], c]:
                _encode_escape(encoder, self._models, int(value), c)
        check = stream_check(columns)
        encoder.encode(np.array([check >> 16, check & 0xFFFF], dtype=np.int32), self._models.chunks[16])
        return _to_bytes(encoder.get_compressed())

    def decode(self, data, count, item_shape):
        """Return int32 (count, *item_shape) decoded from ``data``; ``item_shape`` ends in the channel count.

        InputError when the stream's check does not match the integers it
        decodes to, or the stream holds more than they need: it was cut,
        altered, decoded with another count or written with other tables.
        The work is bounded by the number of integers, whatever the bytes.
        """
        item_shape = check_item_shape(item_shape, self.tables, self.coding_rank)
        rows = int(count) * int(np.prod(item_shape[:-1]))
        decoder = _constriction().stream.queue.RangeDecoder(_to_words(data))
        columns = np.empty((rows, self.tables.channels), dtype=np.int64)
        try:
            for c, model in enumerate(self._models.channels):
                columns[:, c] = decoder.decode(model, rows)
            escaped = columns == self.tables.sizes - 1
            values = columns + self.tables.offsets
            for c in range(self.tables.channels):
                for row in np.flatnonzero(escaped[:, c]):
                    values[row, c] = _decode_escape(decoder, self._models, c)
            high, low = decoder.decode(self._models.chunks[16], 2)
        except AssertionError as err:  # constriction's "compressed data that is invalid for the entropy model"
            raise InputError("the stream does not decode with these coding tables: it is corrupted, or was not "
                             "written with them") from err
        values = check_decoded(values)
        if (int(high) << 16 | int(low)) != stream_check(values) or not decoder.maybe_exhausted():
            raise InputError(f"the stream does not hold {int(count):,} items written with these coding tables "
                             "(its check of the decoded integers fails): it was cut, altered, or written by "
                             "another model")
        return values.reshape((int(count),) + item_shape)


class StringCoder(_Coder):
    """Codes each item's integers into its own string (constriction): the portable backend's per-digit strings.

    Each string holds one item's symbols, then its escaped values: the fewest
    bytes of constriction's words that still decode to them (the decoder
    reads the rest as zeros), found by decoding when encoding. So a string's
    length follows its content byte by byte, as tensorflow-compression's do,
    instead of paying whole 32-bit words for ending its stream. Arguments as
    :class:`_Coder`.
    """

    def __init__(self, tables, coding_rank=1):
        super().__init__(tables, coding_rank)
        self._family = _constriction().stream.model.Categorical(perfect=False)
        self._probabilities = {}  # item shape -> (positions, width) float32: each position's table

    def _position_tables(self, item_shape):
        if item_shape not in self._probabilities:
            positions = int(np.prod(item_shape[:-1]))
            self._probabilities[item_shape] = np.ascontiguousarray(
                np.tile(self.tables.probabilities(), (positions, 1)))
        return self._probabilities[item_shape]

    def compress(self, values):
        """Return one ``bytes`` per item of ``values`` (N, ..., channels); floats are rounded first."""
        values = check_values(values, self.tables, self.coding_rank)
        item_shape = values.shape[1:]
        probabilities = self._position_tables(item_shape)
        flat = values.reshape(len(values), -1, self.tables.channels)
        symbols = self.tables.symbols(flat)
        escape = self.tables.sizes - 1
        strings = []
        queue = _constriction().stream.queue
        for item, item_symbols in zip(flat, symbols):
            encoder = queue.RangeEncoder()
            encoder.encode(np.ascontiguousarray(item_symbols.reshape(-1)), self._family, probabilities)
            for position, c in zip(*np.nonzero(item_symbols == escape)):
                _encode_escape(encoder, self._models, int(item[position, c]), int(c))
            strings.append(self._shortest(_to_string(encoder.get_compressed()), item, item_shape))
        return strings

    def _shortest(self, data, item, item_shape):
        """Return the fewest bytes that decode to ``item`` (its values) when the decoder reads the rest as zeros.

        The encoder's words name one point of the final interval of the range
        coder; any point of that interval decodes the same. So the words,
        read as one big-endian number, are rounded up to a coarser grid (the
        kept bytes, plus one in their last place): the shortest that still
        decodes to ``item`` wins. A coarser grid point lies in the interval
        only if every finer one does, so the length is found by bisection,
        each candidate checked by decoding it.
        """
        item = item.reshape(-1, self.tables.channels)
        value, size = int.from_bytes(data, "big"), len(data)

        def rounded(keep):
            prefix = -(-value >> (8 * (size - keep)))  # the kept bytes, rounded up
            if prefix.bit_length() > 8 * keep:
                return None
            string = prefix.to_bytes(keep, "big").rstrip(b"\0")
            try:
                decoded = self._decode_one(string, item_shape).reshape(item.shape)
            except InputError:
                return None
            return string if np.array_equal(decoded, item) else None

        best, low, high = data.rstrip(b"\0"), 0, len(data) - 1  # fewer than low bytes fail; high may
        while low <= high:
            keep = (low + high) // 2
            string = rounded(keep)
            if string is None:
                low = keep + 1
            else:
                best, high = min(best, string, key=len), keep - 1
        return best

    def decompress(self, strings, item_shape, permissive=False):
        """Return int32 (N, *item_shape) decoded from one string per item.

        constriction's decoder refuses bits that point into the sliver of an
        interval its integer arithmetic assigns to no value (no encoder writes
        such bits; about one random 8-byte string in 400 does), and an escape
        may decode beyond ±2**24: InputError. ``permissive=True`` (random bits
        on purpose, chapter 6) decodes such a string's longest prefix that
        decodes instead; the empty string always does (to each table's lowest
        value).
        """
        item_shape = check_item_shape(item_shape, self.tables, self.coding_rank)
        readable = readable_bytes(int(np.prod(item_shape)))
        items = []
        for string in strings:
            # Bytes the decoder can never reach change nothing: cut them, so that the retries below
            # (one per byte dropped) are bounded by the item's size, not by the string's.
            string = bytes(string)[:readable]
            while True:
                try:
                    items.append(self._decode_one(string, item_shape))
                    break
                except InputError:
                    if not permissive or not string:
                        raise
                    string = string[:-1]
        if not items:
            return np.zeros((0,) + item_shape, dtype=np.int32)
        return np.stack(items).reshape((len(items),) + item_shape)

    def _decode_one(self, string, item_shape):
        decoder = _constriction().stream.queue.RangeDecoder(_from_string(string))
        try:
            symbols = decoder.decode(self._family, self._position_tables(item_shape)).astype(np.int64)
            symbols = symbols.reshape(-1, self.tables.channels)
            values = symbols + self.tables.offsets
            for position, c in zip(*np.nonzero(symbols == self.tables.sizes - 1)):
                values[position, c] = _decode_escape(decoder, self._models, int(c))
        except AssertionError as err:  # constriction's "compressed data that is invalid for the entropy model"
            raise InputError("a string does not decode with these coding tables: it is corrupted, or was not "
                             "written with them") from err
        return check_decoded(values)
