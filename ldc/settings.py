"""ldc's environment switches, parsed in one place: what each means, and one error for a bad value.

    LDC_QUICK            quick mode's small budget (1/true/yes/on) or the full experiment (unset, 0/false/no/off)
    LDC_ENTROPY          the entropy backend: tfc or portable (unset: tfc where installed)
    LDC_SEED_OFFSET      added to every book model's seed: 0..SEEDS-1 (unset: 0)
    LDC_PRETRAINED       download published models (unset, 1) or always train (0)
    LDC_MODELS_TIMEOUT   seconds a download may stall, in (0, 3600] (unset: 30)
    LDC_MODELS_URL, LDC_MODELS_REGISTRY, LDC_CACHE_DIR   places (text; unset: the defaults)

Every reader of a switch calls a function here, so ``LDC_QUICK=false`` means
the same to the package, the tools and the tests. A value that is not one the
switch takes raises :class:`~ldc.errors.ConfigurationError` naming it.
"""
import contextlib
import os

from ldc.errors import ConfigurationError, shown

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def text(name):
    """Return the switch's value, stripped ("" when unset)."""
    return os.environ.get(name, "").strip()


@contextlib.contextmanager
def environment(**values):
    """Set (a string) or unset (None) these environment variables inside the block; restore them after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _put(values)
        yield
    finally:
        _put(saved)


def _put(values):
    """Set each variable to its string value, or unset it where the value is None."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _bad(name, expected):
    return ConfigurationError(f"{name}={shown(os.environ[name])} is not a switch: expected {expected}")


def flag(name, default=False):
    """Return a yes/no switch: True for 1/true/yes/on, False for 0/false/no/off, ``default`` when unset or empty."""
    value = text(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(name, "1 or 0 (or true/false, yes/no, on/off)")


def choice(name, choices):
    """Return one of ``choices`` (lower case), or None when unset."""
    value = text(name).lower()
    if not value:
        return None
    if value not in choices:
        raise ConfigurationError(f"{name}={shown(os.environ[name])}: expected one of {tuple(choices)} (or unset)")
    return value


def whole_number(name, default, high):
    """Return a whole number in 0..high-1, ``default`` when unset."""
    value = text(name)
    if not value:
        return default
    if not value.isdigit() or int(value) >= high:
        raise ConfigurationError(f"{name}={shown(os.environ[name])}: expected a whole number 0..{high - 1} (or unset)")
    return int(value)


def seconds(name, default, high):
    """Return a positive number of seconds up to ``high``, ``default`` when unset."""
    value = text(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number <= high:
        raise ConfigurationError(f"{name}={shown(os.environ[name])}: expected seconds in (0, {high:g}]")
    return number
