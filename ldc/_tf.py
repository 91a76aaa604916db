"""The one place ldc imports TensorFlow.

TensorFlow's C++ start-up lines (CUDA factory registration, TensorRT, CPU
feature notes) would otherwise land in every notebook page as stderr blocks;
level 3 is the first that hides them all. ``setdefault`` keeps a level the
user chose. This must run before the first ``import tensorflow``, which is why
every ldc module takes ``tf`` from here.

Each trained model and each codec compiles its own ``tf.function``s, so a
chapter that compares six models traces the same Python function six times.
TensorFlow warns about that ("triggered tf.function retracing") as if it were
a bug; for ldc it is expected, so that one warning is filtered out of
TensorFlow's logger (every other message still shows).
"""
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402


class _ExpectedRetracing(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


if not any(isinstance(f, _ExpectedRetracing) for f in tf.get_logger().filters):
    tf.get_logger().addFilter(_ExpectedRetracing())

__all__ = ["tf"]
