"""Which entropy backend ldc uses: tensorflow-compression where it is installed, else the portable one.

tensorflow-compression (TFC) is the engine of the TensorFlow tutorial, but its
last release needs TensorFlow 2.14 and so Python 3.9-3.11. The portable
backend does the same math in plain TensorFlow and range-codes with
constriction, so the course runs on Python 3.12/3.13, Keras 3 and Colab.
``LDC_ENTROPY=tfc`` or ``LDC_ENTROPY=portable`` forces one. Files (containers)
use the portable coder on every stack, so they travel between stacks.
Introduced in chapter 3; this module imports neither TensorFlow nor TFC.
"""
import importlib.metadata
import importlib.util

from ldc import settings
from ldc.errors import ConfigurationError

ENTROPY_ENV = "LDC_ENTROPY"
BACKENDS = ("tfc", "portable")


def tfc_installed():
    """Return True when tensorflow-compression can be imported here."""
    return importlib.util.find_spec("tensorflow_compression") is not None


def entropy_backend():
    """Return ``"tfc"`` or ``"portable"``: ``LDC_ENTROPY`` if set, else "tfc" where it is installed.

    ConfigurationError when ``LDC_ENTROPY`` names no backend, or one not installed here.
    """
    chosen = settings.choice(ENTROPY_ENV, BACKENDS)
    if not chosen:
        return "tfc" if tfc_installed() else "portable"
    if chosen == "tfc" and not tfc_installed():
        raise ConfigurationError(f"{ENTROPY_ENV}=tfc, but tensorflow-compression is not installed here (it exists only "
                         "for Python 3.9-3.11 with TensorFlow 2.14); unset it to use the portable backend")
    return chosen


def describe_backend(name=None):
    """Return a short text naming the entropy backend in use (or ``name``) and its version."""
    name = name or entropy_backend()
    if name == "tfc":
        return f"tensorflow-compression {package_version('tensorflow-compression')}"
    return f"portable (constriction {package_version('constriction')})"


def package_version(package):
    """Return an installed distribution's version, or a note that it is missing."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"
