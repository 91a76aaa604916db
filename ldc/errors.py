"""Errors ldc raises on bad input, each naming the bad value and what was expected.

Every one is an :class:`LdcError`, and its message is one printable line
whatever went into it: a file name with a newline or a terminal escape code
in it is shown escaped, so a message can neither break into lines nor
colour the terminal.
"""


def printable(text):
    """Return ``text`` with every character that is not printable (newlines, escape codes) written as its escape."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class LdcError(Exception):
    """Base class of every error ldc raises on purpose; its message is one printable line."""

    def __str__(self):
        return printable(super().__str__())


class InputError(LdcError, ValueError, TypeError):
    """Digits, a value or a file given to ldc are not what it needs (type, shape, dtype, range, format).

    It is a ValueError and a TypeError too, so code that caught either around
    an ldc call still does.
    """


class ConfigurationError(LdcError, ValueError):
    """An environment switch (LDC_QUICK, LDC_ENTROPY, ...) holds a value ldc does not know.

    Raised before the model cache is touched: a bad switch never costs a
    cached model.
    """


class FileError(LdcError, OSError):
    """A path that cannot be read or written as asked: missing, a folder, a FIFO or device, a symlink loop.

    An OSError too (``errno``, ``strerror`` and ``filename`` are set), naming
    the user's path, never a temporary one.
    """

    def __str__(self):
        if self.filename is not None:
            return printable(f"{self.filename}: {self.strerror}")
        return super().__str__()

    @classmethod
    def of(cls, code, reason, filename):
        """Return a FileError that is also the OSError subclass ``code`` stands for (FileNotFoundError for ENOENT, ...).

        So ``except FileNotFoundError`` around an ldc call still catches a missing file.
        """
        kind = type(OSError(code, reason))
        if kind is OSError:
            return cls(code, reason, filename)
        if kind not in _FILE_ERRORS:
            _FILE_ERRORS[kind] = type(cls.__name__, (cls, kind), {"__module__": cls.__module__,
                                                                   "__doc__": cls.__doc__})
        return _FILE_ERRORS[kind](code, reason, filename)


_FILE_ERRORS = {}  # OSError subclass -> FileError subclass of it


class ContainerError(LdcError, ValueError):
    """A compressed-digits file is truncated, corrupted, foreign or from another model."""


class ModelNotFoundError(LdcError, LookupError):
    """No cached model has the fingerprint a container asks for."""


class DataUnavailableError(LdcError, RuntimeError):
    """MNIST is neither prepared on disk nor downloadable (no network)."""


class NotReadyError(LdcError, RuntimeError):
    """An object used before it is ready: a DCTCodec asked to compress before it was fitted."""


class TrainingError(LdcError, RuntimeError):
    """Training failed in a way another configuration avoids: the loss became NaN or infinite."""


def converted(name, value, to, expected):
    """Return ``to(value)``; InputError naming ``name``, the value and what was ``expected`` when it does not convert.

    For the conversions at an entry point (``float``, ``np.asarray``, ``list``)
    whose own errors would surface as a bare TypeError or ValueError from deep inside.
    """
    try:
        return to(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name}={shown(value, 60)}: expected {expected}") from None


def shown(value, limit=80):
    """Return ``value`` as one safe line for a message: ``repr`` (control characters escaped), cut to ``limit``.

    Text that comes from a file (a container's model description) is untrusted:
    printed raw it could break a message into lines, colour the terminal, or
    pose as a command. Messages show it only through this.
    """
    try:
        text = repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr (Python's guard against slow conversions)
        text = f"<an integer of {value.bit_length():,} bits>"
    return text if len(text) <= limit else text[:limit - 4] + "...'"
