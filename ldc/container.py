"""The file format for many compressed digits (chapter 5).

A file codes all its digits in one range-coder stream (no length per digit,
and the coder's ending paid once per file), wrapped with what a reader needs
to trust it::

    offset  size        field
    0       8           magic  b"\\x89LDC\\r\\n\\x1a\\n"  (binary-safe, like PNG's)
    8       1           format version (3)
    9       1           flags (0; reserved)
    10      16          fingerprint of the model that wrote the stream
    26      4           count N of digits, uint32 little-endian
    30      2           length M of the model description, uint16
    32      M           model description: UTF-8 JSON (lmbda, latent size, ...), for error messages
    32+M    4           length P of the payload in bytes, uint32
    36+M    P           the payload: the range coder's stream of all N digits, ending
                        with a CRC-32 of the integers it holds (ldc.range_coding)
    end-4   4           CRC-32 of everything before it, uint32

The outer CRC catches any change to the bytes; the stream's own check catches
a file whose fields were edited and the CRC recomputed (a count that is not
the stream's, another model's fingerprint, a cut or altered payload): the
digits it would decode to do not match what the writer checked, and it is
refused. Versions 1 (one string per digit) and 2 (no check in the stream,
ldc 0.2) are refused with a message that says so. :func:`unpack` checks
every field before it trusts it, and :func:`read_container` reads the header
and checks the file's size before it reads the rest, so a truncated,
corrupted or foreign file raises :class:`~ldc.errors.ContainerError` naming
the problem; it never returns a payload the writer did not write.
"""
import json
import math
import struct
import zlib
from dataclasses import dataclass, field

from ldc.errors import ContainerError, InputError, shown
from ldc.files import as_path, atomic_write_bytes, input_size, open_input

MAGIC = b"\x89LDC\r\n\x1a\n"
VERSION = 3
FINGERPRINT_BYTES = 16
_HEADER = struct.Struct("<8sBB16sIH")
_PAYLOAD_LENGTH = struct.Struct("<I")
_CRC = struct.Struct("<I")
# Limits. A file's description is untrusted text: a flat JSON object of a few short fields (a TrainConfig
# is 11), never nested. The count bounds the memory a file can make a reader use (about 1 KB per digit).
MAX_DESCRIPTION_BYTES = 4096
MAX_DESCRIPTION_FIELDS = 32
MAX_DESCRIPTION_TEXT = 200  # characters of a key or of a string value
MAX_DESCRIPTION_INT = 2 ** 53  # integers a float holds exactly: larger ones describe no configuration
MAX_COUNT = 2 ** 18  # 262,144 digits per file (MNIST has 70,000)
# A digit's 784 pixels take 784 bytes raw, and a learned code takes tens: a payload beyond 4 KB per digit
# announced is no file ldc wrote, and is refused before it is read.
PAYLOAD_BYTES_PER_DIGIT = 4096


def max_payload_bytes(count):
    """Return the largest payload (bytes) a container of ``count`` digits may hold."""
    return PAYLOAD_BYTES_PER_DIGIT * (count + 1)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EMPTY_SIZE = _HEADER.size + _PAYLOAD_LENGTH.size + _CRC.size
_HEAD_BYTES = _HEADER.size + MAX_DESCRIPTION_BYTES + _PAYLOAD_LENGTH.size  # every length field of any container
_RETIRED = {1: "one string per digit, ldc 0.1", 2: "no check of the digits in its stream, ldc 0.2"}


@dataclass(frozen=True)
class Container:
    """The contents of a container: the model ``fingerprint`` (16 bytes), the ``count`` of digits, their ``payload``
    (the range coder's stream) and the model's ``description`` (dict)."""

    fingerprint: bytes
    count: int
    payload: bytes
    description: dict = field(default_factory=dict)


def description_problem(description):
    """Return why ``description`` cannot be a container's model description, or None when it can.

    A description is a JSON object of at most 32 fields: keys are strings of
    at most 200 characters, values are numbers, booleans, null or such strings
    (no lists, no nesting).
    """
    if not isinstance(description, dict):
        return "the model description is not a JSON object"
    if len(description) > MAX_DESCRIPTION_FIELDS:
        return f"the model description has {len(description)} fields, more than {MAX_DESCRIPTION_FIELDS}"
    for key, value in description.items():
        if not isinstance(key, str) or len(key) > MAX_DESCRIPTION_TEXT:
            return f"the model description has a key that is not a short string: {shown(key)}"
        if isinstance(value, str) and len(value) > MAX_DESCRIPTION_TEXT:
            return f"the model description's field {shown(key)} is a string over {MAX_DESCRIPTION_TEXT} characters"
        if value is not None and not isinstance(value, (str, int, float, bool)):
            return f"the model description's field {shown(key)} is a {type(value).__name__}, not a number or text"
        if isinstance(value, float) and not math.isfinite(value):
            return f"the model description's field {shown(key)} is not a finite number"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_DESCRIPTION_INT:
            return f"the model description's field {shown(key)} is an integer beyond ±2**53"
    return None


def pack(container):
    """Return the bytes of a :class:`Container`."""
    if not isinstance(container, Container):
        raise InputError(f"pack: expected a Container, got {type(container).__name__}")
    fingerprint, payload = container.fingerprint, container.payload
    if not isinstance(payload, (bytes, bytearray)):
        raise InputError(f"payload: expected bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if not isinstance(fingerprint, bytes) or len(fingerprint) != FINGERPRINT_BYTES:
        raise InputError(f"fingerprint: expected {FINGERPRINT_BYTES} bytes, got {shown(fingerprint)}")
    if (isinstance(container.count, bool) or not isinstance(container.count, int)
            or not 0 <= container.count <= MAX_COUNT):
        raise InputError(f"count={shown(container.count)}: a container holds 0..{MAX_COUNT:,} digits")
    if len(payload) > max_payload_bytes(container.count):
        raise InputError(f"payload of {len(payload):,} bytes for {container.count:,} digits: a container holds at "
                         f"most {max_payload_bytes(container.count):,}")
    description = container.description or {}
    problem = description_problem(description)
    if problem:
        raise InputError(problem)
    info = json.dumps(description, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(info) > MAX_DESCRIPTION_BYTES:
        raise InputError(f"model description is {len(info)} bytes; at most {MAX_DESCRIPTION_BYTES}")
    body = b"".join([
        _HEADER.pack(MAGIC, VERSION, 0, fingerprint, container.count, len(info)),
        info,
        _PAYLOAD_LENGTH.pack(len(payload)),
        payload,
    ])
    return body + _CRC.pack(zlib.crc32(body))


def _foreign(data):
    if data.startswith(_PNG_SIGNATURE):
        return "it is a PNG image, not an ldc container (compress it first: python -m ldc compress)"
    if data.startswith(b"\x93NUMPY"):
        return "it is a NumPy .npy array, not an ldc container"
    return f"not an ldc container: it starts with {data[:8]!r}, ldc containers start with {MAGIC!r}"


def _layout(head, n):
    """Return ``(fingerprint, count, info_len, payload_at, payload_len)`` from a file's first bytes.

    ``head`` holds at least the first ``min(n, _HEAD_BYTES)`` bytes of a file
    of ``n`` bytes: enough for every length field, so that the file's size
    is checked against them before anything else is read.
    """
    if n == 0:
        raise ContainerError(f"empty file: an ldc container holds at least its {_EMPTY_SIZE}-byte header and checksum")
    if head[:len(MAGIC)] != MAGIC[:min(n, len(MAGIC))]:
        raise ContainerError(_foreign(head))
    if n < _HEADER.size:
        raise ContainerError(f"truncated: {n} bytes, shorter than the {_EMPTY_SIZE} bytes of an empty container")
    _, version, flags, fingerprint, count, info_len = _HEADER.unpack_from(head)
    if version in _RETIRED:
        raise ContainerError(f"format version {version} ({_RETIRED[version]}) is no longer read: compress the "
                             "digits again with this ldc")
    if version != VERSION:
        raise ContainerError(f"format version {version} is not one this ldc reads ({VERSION}): "
                             "the file is corrupted or was written by a newer ldc")
    if flags != 0:
        raise ContainerError(f"corrupted: reserved flags byte is {flags}, expected 0")
    if count > MAX_COUNT:
        raise ContainerError(f"corrupted or foreign: the header announces {count:,} digits; a container holds "
                             f"at most {MAX_COUNT:,}")
    if info_len > MAX_DESCRIPTION_BYTES:
        raise ContainerError(f"corrupted or foreign: the header announces a {info_len}-byte model description; "
                             f"at most {MAX_DESCRIPTION_BYTES}")
    payload_at = _HEADER.size + info_len + _PAYLOAD_LENGTH.size
    if payload_at + _CRC.size > n:
        raise ContainerError(f"truncated or corrupted: the header announces a {info_len}-byte description, "
                             f"which needs more than the file's {n} bytes")
    (payload_len,) = _PAYLOAD_LENGTH.unpack_from(head, payload_at - _PAYLOAD_LENGTH.size)
    if payload_len > max_payload_bytes(count):
        raise ContainerError(f"corrupted or foreign: the header announces a {payload_len:,}-byte stream for "
                             f"{count:,} digits; at most {max_payload_bytes(count):,}")
    expected = payload_at + payload_len + _CRC.size
    if expected != n:
        what = "truncated" if expected > n else "has trailing bytes"
        raise ContainerError(f"{what}: the header describes a {expected:,}-byte file, but it is {n:,} bytes")
    return fingerprint, count, info_len, payload_at, payload_len


def unpack(data):
    """Return the :class:`Container` in ``data`` (bytes); raise ContainerError naming what is wrong with it."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ContainerError(f"expected the bytes of a container, got {type(data).__name__}")
    data = bytes(data)
    n = len(data)
    fingerprint, count, info_len, payload_at, payload_len = _layout(data, n)
    (stored_crc,) = _CRC.unpack_from(data, n - _CRC.size)
    if zlib.crc32(data[:n - _CRC.size]) != stored_crc:
        raise ContainerError("corrupted: checksum mismatch (the bytes changed after the file was written)")
    try:
        description = json.loads(data[_HEADER.size:_HEADER.size + info_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ContainerError(f"corrupted: unreadable model description ({shown(str(err))})") from err
    problem = description_problem(description)
    if problem:
        raise ContainerError(f"corrupted or foreign: {problem}")
    return Container(fingerprint, count, data[payload_at:payload_at + payload_len], description)


def write_container(path, container):
    """Write a :class:`Container` to ``path`` atomically (a partial file is never left under that name); return its
    size in bytes."""
    data = pack(container)
    atomic_write_bytes(path, data)
    return len(data)


def read_container(path):
    """Return the :class:`Container` stored at ``path``; ContainerError names the file and what is wrong with it.

    Only a regular file is opened (FileError otherwise). Its header is read
    and its size checked against the header's lengths before the rest is read.
    """
    path = as_path(path, "container")
    with open_input(path, "container") as stream:
        n = input_size(stream)
        head = stream.read(min(n, _HEAD_BYTES))
        try:
            _layout(head, n)
        except ContainerError as err:
            raise ContainerError(f"{path}: {err}") from err
        data = head + stream.read(n - len(head))
    try:
        return unpack(data)
    except ContainerError as err:
        raise ContainerError(f"{path}: {err}") from err
