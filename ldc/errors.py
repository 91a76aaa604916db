"""Errors ldc raises on bad input, each naming the bad value and what was expected."""


class LdcError(Exception):
    """Base class of every error ldc raises on purpose; the command line prints these as one line."""


class InputError(LdcError, ValueError):
    """Digits or a file given to ldc are not what it needs (shape, dtype, range, format)."""


class ContainerError(LdcError, ValueError):
    """A compressed-digits file is truncated, corrupted, foreign or from another model."""


class ModelNotFoundError(LdcError, LookupError):
    """No cached model has the fingerprint a container asks for."""


class DataUnavailableError(LdcError, RuntimeError):
    """MNIST is neither prepared on disk nor downloadable (no network)."""


class TrainingError(LdcError, RuntimeError):
    """Training failed in a way another configuration avoids: the loss became NaN or infinite."""


def shown(value, limit=80):
    """Return ``value`` as one safe line for a message: ``repr`` (control characters escaped), cut to ``limit``.

    Text that comes from a file (a container's model description) is untrusted:
    printed raw it could break a message into lines, colour the terminal, or
    pose as a command. Messages show it only through this.
    """
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"
