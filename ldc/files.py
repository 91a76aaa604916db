"""Files ldc reads and writes: regular files only, opened without blocking, written whole or not at all.

Every file ldc opens comes through :func:`open_input`, and every file it
writes through :func:`atomic_write_bytes`, so one place decides what a path
may be. A FIFO, a device, a socket or a folder is refused before anything is
read from it (a FIFO would block the reader forever, ``/dev/zero`` never
ends), and a symbolic link loop is named as one. A write goes to a temporary
file beside the target and is renamed over it, so no reader ever sees half a
file; it never replaces something that is not a regular file. Errors are
:class:`~ldc.errors.FileError` (an OSError and an LdcError) naming the
user's path, never a temporary one. This module needs only the standard library.
"""
import contextlib
import errno
import glob
import hashlib
import os
import secrets
import stat
from pathlib import Path

from ldc.errors import FileError, InputError

# A temporary file is named ".NAME.PID.TOKEN.tmp"; a name too long for that (file names hold at most
# 255 bytes) is shortened to its first characters and a hash of the whole.
_NAME_MAX = 255
_TMP_EXTRA = 32  # ".", ".PID" (up to 10 digits), ".TOKEN" (8), ".tmp", with room to spare


def as_path(path, what="path"):
    """Return ``path`` (a str or os.PathLike) as a Path; InputError for anything else (None, a number, bytes)."""
    if isinstance(path, Path):
        return path
    if isinstance(path, str) or (hasattr(path, "__fspath__") and isinstance(os.fspath(path), str)):
        if not os.fspath(path):
            raise InputError(f"{what}: an empty file name")
        return Path(path)
    raise InputError(f"{what}: expected a file name (str or Path), got {type(path).__name__}")


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _file_error(err, path):
    reason = "a symbolic link loop" if err.errno == errno.ELOOP else (err.strerror or str(err))
    return FileError.of(err.errno, reason, str(path))


def _not_regular(path, mode, doing):
    code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    return FileError.of(code, f"{_kind(mode)}, not a regular file: ldc {doing} regular files only", str(path))


def open_input(path, what="input"):
    """Return ``path`` opened for reading in binary mode, after checking that it is a regular file.

    The path is looked at before it is opened (a device is never opened), and
    opened without blocking, then looked at again through the open file, so a
    FIFO swapped in between cannot block the reader either. FileError names
    the path and the reason (missing, a folder, a FIFO, a device, a symbolic
    link loop, no permission).
    """
    path = as_path(path, what)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode, "reads")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if isinstance(err, FileError):
            raise
        raise _file_error(err, path) from err
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode, "reads")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def input_size(stream):
    """Return the size in bytes of a file opened by :func:`open_input`."""
    return os.fstat(stream.fileno()).st_size


def read_at_most(path, limit, what="input"):
    """Return the bytes of the regular file at ``path``; FileError when it holds more than ``limit`` bytes (nothing is
    read)."""
    with open_input(path, what) as stream:
        size = input_size(stream)
        if size > limit:
            raise FileError(errno.EFBIG, f"{size:,} bytes, more than the {limit:,} ldc reads for {what}", str(path))
        return stream.read(limit + 1)[:limit]


def output_target(path, what="output"):
    """Return the path a write to ``path`` replaces: ``path`` itself, or the file its symbolic link points to.

    FileError when it exists and is not a regular file (a device node, a FIFO,
    a folder: ldc never replaces those) or is a symbolic link loop.
    """
    path = as_path(path, what)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Path(os.path.realpath(path)) if path.is_symlink() else path  # a dangling link: write its target
    except OSError as err:
        raise _file_error(err, path) from err
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode, "replaces")
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _tmp_stem(name):
    """The part of a temporary file's name that names its target: the name, or a shortened one with a hash."""
    if len(name.encode("utf-8", "surrogateescape")) <= _NAME_MAX - _TMP_EXTRA:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{name[:100]}~{digest}"


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so readers see all or
    nothing.

    ``path`` may not be anything but a regular file (or nothing yet); a
    symbolic link is written through, to the file it points to. An error
    names ``path``, not the temporary file. Temporary files of ``path`` left
    by a writer that was killed (its process is gone) are removed.
    """
    target = output_target(path)
    stem = _tmp_stem(target.name)
    _remove_orphans(target.parent, stem)
    tmp = target.with_name(f".{stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    renamed = False
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        renamed = True
    except OSError as err:
        raise _file_error(err, path) from err
    finally:
        if not renamed:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _remove_orphans(folder, stem):
    """Remove ``.STEM.PID.TOKEN.tmp`` files in ``folder`` whose writing process no longer exists."""
    try:
        candidates = list(folder.glob(f".{glob.escape(stem)}.*.tmp"))
    except OSError:
        return
    for tmp in candidates:
        pid = tmp.name[len(stem) + 2:].split(".")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):  # not ours to remove (a read-only folder): the write reports that
                tmp.unlink(missing_ok=True)
        except (PermissionError, OverflowError, ValueError):
            continue  # alive under another user, or not a pid: leave it
