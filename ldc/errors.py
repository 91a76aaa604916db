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
