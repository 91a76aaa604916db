"""The one place ldc imports TensorFlow.

TensorFlow's C++ start-up lines (CUDA factory registration, TensorRT, CPU
feature notes) would otherwise land in every notebook page as stderr blocks;
level 3 is the first that hides them all. ``setdefault`` keeps a level the
user chose. This must run before the first ``import tensorflow``, which is why
every ldc module takes ``tf`` from here.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

__all__ = ["tf"]
