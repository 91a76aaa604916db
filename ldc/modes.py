"""Quick and full mode: one environment variable, ``LDC_QUICK``, picks the budget.

Full mode (the default) is the real experiment the rendered book shows. Quick
mode runs the same code on a small budget so that CI can execute every chapter
in minutes. Introduced in the book's introduction; every chapter prints
:func:`describe_mode`.
"""
import platform

from ldc import settings
from ldc.backends import describe_backend, package_version

QUICK_ENV = "LDC_QUICK"


def quick_mode():
    """Return True when ``LDC_QUICK`` asks for quick mode (1/true/yes/on), False when unset or 0/false/no/off."""
    return settings.flag(QUICK_ENV, default=False)


def mode_name(quick=None):
    """Return ``"quick"`` or ``"full"``; ``quick=None`` reads ``LDC_QUICK``."""
    return "quick" if (quick_mode() if quick is None else quick) else "full"


def describe_mode(quick=None):
    """Return what produced the outputs that follow: the mode, and the stack (Python, TensorFlow, entropy backend)."""
    if mode_name(quick) == "quick":
        mode = ("Quick mode (LDC_QUICK=1): a small training budget and a subset of the digits.\n"
                "Every cell runs, but the numbers are rough (unset it for the real run).")
    else:
        mode = "Full mode: the real experiment (LDC_QUICK=1 runs it on a small budget)."
    return (f"{mode}\nPython {platform.python_version()}, TensorFlow {package_version('tensorflow')}, "
            f"entropy: {describe_backend()}")
