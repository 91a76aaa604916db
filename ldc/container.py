"""The file format for many compressed digits (chapter 5).

A file codes all its digits in one range-coder stream (no length per digit,
and the coder's ending paid once per file), wrapped with what a reader needs
to trust it::

    offset  size        field
    0       8           magic  b"\\x89LDC\\r\\n\\x1a\\n"  (binary-safe, like PNG's)
    8       1           format version (2)
    9       1           flags (0; reserved)
    10      16          fingerprint of the model that wrote the stream
    26      4           count N of digits, uint32 little-endian
    30      2           length M of the model description, uint16
    32      M           model description: UTF-8 JSON (lmbda, latent size, ...), for error messages
    32+M    4           length P of the payload in bytes, uint32
    36+M    P           the payload: the range coder's stream of all N digits
    end-4   4           CRC-32 of everything before it, uint32

Version 1 (one string per digit, with a uint16 length each) is refused with a
message that says so: its strings came from a coder that exists only on one
stack. :func:`unpack` checks every field before it trusts it, so a truncated,
corrupted or foreign file raises :class:`~ldc.errors.ContainerError` naming
the problem; it never returns a payload the writer did not write.
"""
import glob
import json
import math
import os
import secrets
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ldc.errors import ContainerError, shown

MAGIC = b"\x89LDC\r\n\x1a\n"
VERSION = 2
FINGERPRINT_BYTES = 16
_HEADER = struct.Struct("<8sBB16sIH")
_PAYLOAD_LENGTH = struct.Struct("<I")
_CRC = struct.Struct("<I")
# Limits. A file's description is untrusted text: a flat JSON object of a few short fields (a TrainConfig
# is 11), never nested. The count bounds the memory a file can make a reader use (about 1 KB per digit).
MAX_DESCRIPTION_BYTES = 4096
MAX_DESCRIPTION_FIELDS = 32
MAX_DESCRIPTION_TEXT = 200  # characters of a key or of a string value
MAX_COUNT = 2 ** 18  # 262,144 digits per file (MNIST has 70,000)
MAX_PAYLOAD_BYTES = 0xFFFFFFFF
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EMPTY_SIZE = _HEADER.size + _PAYLOAD_LENGTH.size + _CRC.size


@dataclass(frozen=True)
class Container:
    """The contents of a container: the model ``fingerprint`` (16 bytes), the ``count`` of digits, their ``payload`` (the range coder's stream) and the model's ``description`` (dict)."""

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
    return None


def pack(container):
    """Return the bytes of a :class:`Container`."""
    fingerprint, payload = container.fingerprint, bytes(container.payload)
    if not isinstance(fingerprint, bytes) or len(fingerprint) != FINGERPRINT_BYTES:
        raise ValueError(f"fingerprint: expected {FINGERPRINT_BYTES} bytes, got {fingerprint!r}")
    if isinstance(container.count, bool) or not isinstance(container.count, int) or not 0 <= container.count <= MAX_COUNT:
        raise ValueError(f"count={container.count!r}: a container holds 0..{MAX_COUNT:,} digits")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes: a container holds at most {MAX_PAYLOAD_BYTES}")
    description = container.description or {}
    problem = description_problem(description)
    if problem:
        raise ValueError(problem)
    info = json.dumps(description, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(info) > MAX_DESCRIPTION_BYTES:
        raise ValueError(f"model description is {len(info)} bytes; at most {MAX_DESCRIPTION_BYTES}")
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


def unpack(data):
    """Return the :class:`Container` in ``data`` (bytes); raise ContainerError naming what is wrong with it."""
    data = bytes(data)
    n = len(data)
    if n == 0:
        raise ContainerError(f"empty file: an ldc container holds at least its {_EMPTY_SIZE}-byte header and checksum")
    if data[:len(MAGIC)] != MAGIC[:min(n, len(MAGIC))]:
        raise ContainerError(_foreign(data))
    if n < _HEADER.size:
        raise ContainerError(f"truncated: {n} bytes, shorter than the {_EMPTY_SIZE} bytes of an empty container")
    _, version, flags, fingerprint, count, info_len = _HEADER.unpack_from(data)
    if version == 1:
        raise ContainerError("format version 1 (one string per digit, ldc 0.1) is no longer read: its strings "
                             "came from tensorflow-compression's coder; compress the digits again with this ldc")
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
    (payload_len,) = _PAYLOAD_LENGTH.unpack_from(data, payload_at - _PAYLOAD_LENGTH.size)
    expected = payload_at + payload_len + _CRC.size
    if expected != n:
        what = "truncated" if expected > n else "has trailing bytes"
        raise ContainerError(f"{what}: the header describes a {expected}-byte file, but it is {n} bytes")
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
    """Write a :class:`Container` to ``path`` atomically (a partial file is never left under that name); return its size in bytes."""
    data = pack(container)
    atomic_write_bytes(path, data)
    return len(data)


def read_container(path):
    """Return the :class:`Container` stored at ``path``; ContainerError names the file and what is wrong with it.

    A file larger than the largest container is refused before it is read.
    """
    path = Path(path)
    largest = _EMPTY_SIZE + MAX_DESCRIPTION_BYTES + MAX_PAYLOAD_BYTES
    if path.is_file() and path.stat().st_size > largest:
        raise ContainerError(f"{path}: {path.stat().st_size:,} bytes, larger than any ldc container")
    try:
        return unpack(path.read_bytes())
    except ContainerError as err:
        raise ContainerError(f"{path}: {err}") from err


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so readers see all or nothing.

    An OSError names ``path``, not the temporary file. Temporary files of
    ``path`` left by a writer that was killed (its process is gone) are removed.
    """
    path = Path(path)
    _remove_orphans(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise type(err)(err.errno, err.strerror, str(path)) from err
    finally:
        if tmp.exists():
            tmp.unlink()


def _remove_orphans(path):
    """Remove ``.NAME.PID.TOKEN.tmp`` files beside ``path`` whose writing process no longer exists."""
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return
    for tmp in candidates:
        pid = tmp.name[len(path.name) + 2:].split(".")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass  # not ours to remove (a read-only folder): the write below reports that
        except (PermissionError, OverflowError, ValueError):
            continue  # alive under another user, or not a pid: leave it
