"""The file format for many compressed digits (chapter 5).

A compressed digit is the range coder's byte string. A file wraps the strings
of many digits with what a reader needs to trust them::

    offset  size        field
    0       8           magic  b"\\x89LDC\\r\\n\\x1a\\n"  (binary-safe, like PNG's)
    8       1           format version (1)
    9       1           flags (0; reserved)
    10      16          fingerprint of the model that wrote the strings
    26      4           count N of strings, uint32 little-endian
    30      2           length M of the model description, uint16
    32      M           model description: UTF-8 JSON (lmbda, latent size, ...), for error messages
    32+M    2N          length of each string, uint16
    ...     sum         the strings, back to back
    end-4   4           CRC-32 of everything before it, uint32

:func:`unpack` checks every field before it trusts it, so a truncated,
corrupted or foreign file raises :class:`~ldc.errors.ContainerError` naming
the problem; it never returns strings the writer did not write.
"""
import json
import os
import secrets
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ldc.errors import ContainerError

MAGIC = b"\x89LDC\r\n\x1a\n"
VERSION = 1
FINGERPRINT_BYTES = 16
_HEADER = struct.Struct("<8sBB16sIH")
_CRC = struct.Struct("<I")
MAX_STRING_BYTES = 0xFFFF
MAX_DESCRIPTION_BYTES = 0xFFFF
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Container:
    """The contents of a container: the model ``fingerprint`` (16 bytes), its ``description`` (dict) and the ``strings``."""

    fingerprint: bytes
    strings: list
    description: dict = field(default_factory=dict)


def pack(strings, fingerprint, description=None):
    """Return the container bytes holding ``strings`` (a sequence of bytes) written by the model ``fingerprint``."""
    if not isinstance(fingerprint, bytes) or len(fingerprint) != FINGERPRINT_BYTES:
        raise ValueError(f"fingerprint: expected {FINGERPRINT_BYTES} bytes, got {fingerprint!r}")
    strings = [bytes(s) for s in strings]
    too_long = [i for i, s in enumerate(strings) if len(s) > MAX_STRING_BYTES]
    if too_long:
        raise ValueError(f"string {too_long[0]} is {len(strings[too_long[0]])} bytes; a container holds at most "
                         f"{MAX_STRING_BYTES} bytes per string")
    if len(strings) > 0xFFFFFFFF:
        raise ValueError(f"{len(strings)} strings: a container holds at most {0xFFFFFFFF}")
    info = json.dumps(description or {}, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(info) > MAX_DESCRIPTION_BYTES:
        raise ValueError(f"model description is {len(info)} bytes; at most {MAX_DESCRIPTION_BYTES}")
    body = b"".join([
        _HEADER.pack(MAGIC, VERSION, 0, fingerprint, len(strings), len(info)),
        info,
        struct.pack(f"<{len(strings)}H", *(len(s) for s in strings)),
        *strings,
    ])
    return body + _CRC.pack(zlib.crc32(body))


def _foreign(data):
    if data.startswith(_PNG_SIGNATURE):
        return "it is a PNG image, not an ldc container (compress it first: python -m ldc compress)"
    if data.startswith(b"\x93NUMPY"):
        return "it is a NumPy .npy array, not an ldc container"
    return f"not an ldc container: it starts with {data[:8]!r}, ldc containers start with {MAGIC!r}"


def unpack(data):
    """Return the :class:`Container` in ``data`` (bytes); raise ContainerError naming what is wrong with it."""
    data = bytes(data)
    n = len(data)
    if n == 0:
        raise ContainerError("empty file: an ldc container holds at least its 36-byte header and checksum")
    if data[:len(MAGIC)] != MAGIC[:min(n, len(MAGIC))]:
        raise ContainerError(_foreign(data))
    if n < _HEADER.size + _CRC.size:
        raise ContainerError(f"truncated: {n} bytes, shorter than the {_HEADER.size + _CRC.size} bytes of an empty container")
    _, version, flags, fingerprint, count, info_len = _HEADER.unpack_from(data)
    if version != VERSION:
        raise ContainerError(f"format version {version} is not one this ldc reads ({VERSION}): "
                             "the file is corrupted or was written by a newer ldc")
    if flags != 0:
        raise ContainerError(f"corrupted: reserved flags byte is {flags}, expected 0")
    lengths_at = _HEADER.size + info_len
    payload_at = lengths_at + 2 * count
    if payload_at + _CRC.size > n:
        raise ContainerError(f"truncated or corrupted: the header announces {count} strings and a "
                             f"{info_len}-byte description, which need more than the file's {n} bytes")
    lengths = struct.unpack_from(f"<{count}H", data, lengths_at)
    expected = payload_at + sum(lengths) + _CRC.size
    if expected != n:
        what = "truncated" if expected > n else "has trailing bytes"
        raise ContainerError(f"{what}: the header describes a {expected}-byte file, but it is {n} bytes")
    (stored_crc,) = _CRC.unpack_from(data, n - _CRC.size)
    if zlib.crc32(data[:n - _CRC.size]) != stored_crc:
        raise ContainerError("corrupted: checksum mismatch (the bytes changed after the file was written)")
    try:
        description = json.loads(data[_HEADER.size:lengths_at].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ContainerError(f"corrupted: unreadable model description ({err})") from err
    if not isinstance(description, dict):
        raise ContainerError("corrupted: the model description is not a JSON object")
    strings, at = [], payload_at
    for length in lengths:
        strings.append(data[at:at + length])
        at += length
    return Container(fingerprint, strings, description)


def write_container(path, strings, fingerprint, description=None):
    """Write a container to ``path`` atomically (a partial file is never left under that name); return its size in bytes."""
    data = pack(strings, fingerprint, description)
    atomic_write_bytes(path, data)
    return len(data)


def read_container(path):
    """Return the :class:`Container` stored at ``path``; ContainerError names what is wrong with a bad file."""
    return unpack(Path(path).read_bytes())


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so readers see all or nothing."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
