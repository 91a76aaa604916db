"""The on-disk model cache: trained weights keyed by their full configuration and mode.

Chapters 4-6 reuse the models an earlier chapter trained instead of training
them again. Each entry is one ``.npz`` file named by the SHA-256 of its
configuration, holding the arrays and a JSON metadata record that carries
the SHA-256 of those arrays. Entries are written to a temporary file and
renamed into place, so a crash never leaves a partial entry under a real
name; an entry that fails to load or to verify is reported as corrupt, so
the caller rebuilds it instead of loading it.

The cache lives in ``LDC_CACHE_DIR`` if set, else in the user's cache folder
(``~/.cache/ldc`` on Linux).
"""
import errno
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import platformdirs

from ldc import settings
from ldc.errors import FileError, LdcError
from ldc.files import atomic_write_bytes, open_input

CACHE_ENV = "LDC_CACHE_DIR"
ENTRY_FORMAT = 2  # 2: weights by name, ldc's integer tables (1: Keras weight order, TFC tables)
_META_KEY = "__meta__"


class CorruptEntryError(LdcError):
    """A cache entry exists but cannot be trusted (partial, altered, or from an incompatible format)."""


def cache_dir():
    """Return the cache folder (a Path; created on first write): ``LDC_CACHE_DIR`` or the user's cache dir."""
    configured = settings.text(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path(platformdirs.user_cache_dir("ldc"))


def models_dir():
    """Return the folder of cached models inside :func:`cache_dir`."""
    return cache_dir() / "models"


def config_key(config_dict):
    """Return the entry name for a configuration (a JSON-ready dict): 64 hex digits of SHA-256."""
    canonical = json.dumps({"entry_format": ENTRY_FORMAT, "config": config_dict}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_path(key):
    """Return the path of the entry named ``key``."""
    return models_dir() / f"{key}.npz"


def arrays_digest(arrays):
    """Return the SHA-256 (hex) of named arrays: names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_entry(path, arrays, meta):
    """Store ``arrays`` (dict of name -> ndarray) and ``meta`` (JSON-ready dict) at ``path``, atomically."""
    if _META_KEY in arrays:
        raise ValueError(f"array name {_META_KEY!r} is reserved")
    record = dict(meta, entry_format=ENTRY_FORMAT, arrays_sha256=arrays_digest(arrays))
    meta_bytes = np.frombuffer(json.dumps(record, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, npz_bytes({**arrays, _META_KEY: meta_bytes}))


def npz_bytes(arrays):
    """Return the bytes of an uncompressed ``.npz`` of ``arrays`` that depend on nothing but the arrays.

    ``np.savez`` stamps each member with the current time, so the same model
    saved twice differs; here every member has a fixed time (1980-01-01, zip's
    epoch) and permissions, in name order: a release file's SHA-256 is a
    function of its contents. ``np.load`` reads it as any ``.npz``.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.external_attr = 0o644 << 16
            with archive.open(member, "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, np.asanyarray(arrays[name]), allow_pickle=False)
    return buffer.getvalue()


def _meta_from(npz, path):
    """Return the metadata record of an open entry, or raise CorruptEntryError if it is missing or foreign."""
    meta = json.loads(npz[_META_KEY].tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("entry_format") != ENTRY_FORMAT:
        raise CorruptEntryError(f"{path}: not an entry of format {ENTRY_FORMAT}")
    return meta


def _open_entry(path, read):
    """Run ``read(npz)`` on the entry at ``path``; FileNotFoundError when there is none, else CorruptEntryError.

    Anything else that keeps the entry from opening makes it corrupt, to be
    rebuilt: a damaged zip fails in many ways (BadZipFile, ValueError,
    EOFError, KeyError, OSError "Invalid argument" from a bad offset), and a
    folder, a FIFO or an unreadable file in the entry's place never heals by itself.
    """
    try:
        stream = open_input(path, "cache entry")  # a regular file only: a FIFO there would block for ever
    except FileError as err:
        if err.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "no such cache entry", str(path)) from None
        raise CorruptEntryError(f"{path}: {err.strerror}") from err
    try:
        with stream, np.load(stream, allow_pickle=False) as npz:
            return read(npz)
    except CorruptEntryError:
        raise
    except Exception as err:
        detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise CorruptEntryError(f"{path}: unreadable ({type(err).__name__}: {detail})") from err


def load_entry(path):
    """Return ``(arrays, meta)`` stored at ``path``; raise CorruptEntryError if it cannot be trusted.

    FileNotFoundError is raised as is when there is no entry at all.
    """
    def read(npz):
        return {name: npz[name] for name in npz.files if name != _META_KEY}, _meta_from(npz, path)

    arrays, meta = _open_entry(path, read)
    if meta.get("arrays_sha256") != arrays_digest(arrays):
        raise CorruptEntryError(f"{path}: the stored arrays do not match their checksum")
    return arrays, meta


def read_meta(path):
    """Return the metadata of the entry at ``path`` without reading or verifying its arrays."""
    return _open_entry(path, lambda npz: _meta_from(npz, path))


def iter_entries():
    """Yield ``(path, meta)`` for every readable entry in the cache (unreadable ones are skipped).

    Only the metadata is read; :func:`load_entry` verifies an entry's arrays.
    """
    folder = models_dir()
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.npz")):
        try:
            meta = read_meta(path)
        except (CorruptEntryError, OSError):
            continue
        yield path, meta


def remove_entry(path):
    """Delete the entry at ``path`` (a file, or a folder in its place); return False when it cannot be (read-only)."""
    path = Path(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return False
    return True
