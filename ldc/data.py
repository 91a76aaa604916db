"""MNIST digits from TensorFlow Datasets, decoded once and kept in memory.

``tfds.load("mnist")`` downloads MNIST where there is a network. Where there
is none, set ``TFDS_DATA_DIR`` to a folder holding a prepared copy (this
project's build machines use ``../shared/data/tensorflow_datasets``). Without
either, :func:`load_mnist` fails at once with a message that says how to fix
it, instead of retrying a download for minutes. Introduced in chapter 1.
"""
import functools
import os
import socket
import warnings
from dataclasses import dataclass

import numpy as np

from ldc._tf import tf
from ldc.errors import DataUnavailableError, InputError

DIGIT_SHAPE = (28, 28)
SPLITS = ("train", "test")
SPLIT_SIZES = {"train": 60_000, "test": 10_000}
# Where TFDS's MNIST builder downloads from; probed before a download is tried.
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


@dataclass(frozen=True)
class Digits:
    """MNIST digits: ``images`` (N, 28, 28) uint8 in 0..255, ``labels`` (N,) int64 in 0..9 (read-only arrays)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        """Return a subset of the digits (a slice or an index array) as ``Digits``."""
        return Digits(self.images[index], self.labels[index])


def as_digits(array, name="digits"):
    """Return uint8 digits (N, 28, 28) from an array shaped (28, 28), (N, 28, 28) or (N, 28, 28, 1).

    Integer or float arrays are accepted when every value is a whole number in
    0..255; anything else (another shape, no digits, NaN, fractions, values
    out of range, non-numeric dtypes) raises InputError naming the problem.
    """
    a = np.asarray(array)
    numeric = a.dtype != np.bool_ and (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating))
    if not numeric:
        raise InputError(f"{name}: expected pixel values (uint8 0..255), got dtype {a.dtype}")
    shape = a.shape
    if a.ndim == 2:
        a = a[np.newaxis]
    elif a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 3 or a.shape[1:] != DIGIT_SHAPE:
        raise InputError(f"{name}: expected digits shaped (N, 28, 28) or (N, 28, 28, 1), got {shape}")
    if len(a) == 0:
        raise InputError(f"{name}: no digits (shape {shape})")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if np.issubdtype(a.dtype, np.floating):
        bad = ~np.isfinite(a)
        if bad.any():
            kind = "NaN" if np.isnan(a).any() else "infinite"
            raise InputError(f"{name}: {int(bad.sum())} pixel values are not finite (first: {kind})")
        fractional = a != np.round(a)
        if fractional.any():
            raise InputError(f"{name}: pixel values must be whole numbers 0..255, found {a[fractional].flat[0]!r}")
    low, high = a.min(), a.max()
    if low < 0 or high > 255:
        raise InputError(f"{name}: pixel values must lie in 0..255, found {low}..{high}")
    return a.astype(np.uint8)


def _network_reachable(timeout=3.0):
    try:
        with socket.create_connection(_DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable_message(data_dir, reason):
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "TFDS's default folder (~/tensorflow_datasets)"
    return (f"MNIST is not prepared in {where} and cannot be downloaded ({reason}). "
            "Fix: connect to the internet so TFDS can download it, or set TFDS_DATA_DIR to a folder "
            "holding a prepared copy (on this project's machines: export "
            "TFDS_DATA_DIR=$PWD/../shared/data/tensorflow_datasets).")


@functools.lru_cache(maxsize=8)
def _load(split, limit, data_dir):
    with warnings.catch_warnings():
        # TFDS imports tqdm.auto, which warns "IProgress not found" inside Jupyter without ipywidgets;
        # ldc shows no progress bars, so the warning would only clutter every chapter.
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tensorflow_datasets as tfds  # slow to import; only when data is needed

    builder = tfds.builder("mnist", data_dir=data_dir)
    if not builder.is_prepared():
        if not _network_reachable():
            raise DataUnavailableError(_unavailable_message(data_dir, "no network"))
        try:
            builder.download_and_prepare()
        except Exception as err:  # TFDS wraps network failures in many types
            raise DataUnavailableError(_unavailable_message(data_dir, f"{type(err).__name__}: {err}")) from err
    spec = split if limit is None else f"{split}[:{limit}]"
    images, labels = tfds.as_numpy(builder.as_dataset(split=spec, batch_size=-1, as_supervised=True))
    images = np.ascontiguousarray(images.reshape(-1, *DIGIT_SHAPE))
    labels = np.asarray(labels, dtype=np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return Digits(images, labels)


def load_mnist(split="train", limit=None, data_dir=None):
    """Return the MNIST ``split`` ("train": 60,000 digits, "test": 10,000) as :class:`Digits`, uint8 (N, 28, 28).

    Args:
      split: "train" or "test".
      limit: keep only the first ``limit`` digits (a positive int), or None for all.
      data_dir: TFDS data folder; None uses ``TFDS_DATA_DIR`` or TFDS's default.

    The arrays are decoded once per process and shared (read-only) between calls.
    Raises DataUnavailableError when MNIST is neither on disk nor downloadable.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS}")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"limit={limit!r}: expected a positive number of digits or None")
        limit = int(limit)
        if limit >= SPLIT_SIZES[split]:
            limit = None
    if data_dir is not None:
        data_dir = os.fspath(data_dir)
    return _load(split, limit, data_dir)


def training_batches(images, batch_size=128, seed=0):
    """Yield uint8 tensors (batch_size, 28, 28) forever: each pass visits all ``images`` once, in a new random order.

    The digits (uint8, (N, 28, 28)) are copied into one tensor once and each
    batch is gathered from it, so nothing is decoded again and no input
    thread competes with training for the CPU. A pass yields
    ceil(N / batch_size) batches, the last one smaller when batch_size does
    not divide N, as ``model.fit`` would.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[1:] != DIGIT_SHAPE or len(images) == 0:
        raise ValueError(f"images: expected uint8 digits shaped (N, 28, 28) with N >= 1, got {images.dtype} {images.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: expected a positive int")
    digits = tf.constant(images)
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(images))
        for start in range(0, len(images), batch_size):
            yield tf.gather(digits, order[start:start + batch_size])
