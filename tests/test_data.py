import socket
import time

import numpy as np
import pytest

import ldc

# Digit counts of the real MNIST splits (LeCun et al.), labels 0..9. TFDS stores the digits in
# its own shuffled order, so the split's order is not the original files' order.
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_as_digits_accepts_the_documented_shapes_and_whole_numbers():
    one = np.arange(784).reshape(28, 28) % 256
    assert ldc.as_digits(one).shape == (1, 28, 28)
    assert ldc.as_digits(np.stack([one, one])[..., None]).shape == (2, 28, 28)
    floats = ldc.as_digits(one.astype(np.float64))
    assert floats.dtype == np.uint8 and np.array_equal(floats[0], one)


def test_offline_without_data_fails_fast_with_the_fix(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    started = time.perf_counter()
    with pytest.raises(ldc.DataUnavailableError, match="TFDS_DATA_DIR") as raised:
        ldc.load_mnist("test", data_dir=tmp_path / "empty")
    assert time.perf_counter() - started < 30  # TFDS's own download retries take minutes
    assert "no network" in str(raised.value) and str(tmp_path / "empty") in str(raised.value)


@pytest.mark.parametrize("kwargs, message", [
    (dict(split="validation"), "split"),
    (dict(split="test", limit=0), "limit"),
    (dict(split="test", limit=2.5), "limit"),
])
def test_load_mnist_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ldc.load_mnist(**kwargs)


@pytest.mark.integration
def test_real_mnist_test_split():
    test = ldc.load_mnist("test")
    assert test.images.shape == (10_000, 28, 28) and test.images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(test.labels, minlength=10), MNIST_TEST_LABEL_COUNTS)
    assert test.images.max() == 255 and test.images.min() == 0
    assert not test.images.flags.writeable  # shared between callers: read-only
    assert ldc.load_mnist("test") is test  # decoded once per process


@pytest.mark.integration
def test_real_mnist_train_split_and_limits():
    train = ldc.load_mnist("train")
    assert train.images.shape == (60_000, 28, 28) and len(train) == 60_000
    np.testing.assert_array_equal(np.bincount(train.labels, minlength=10), MNIST_TRAIN_LABEL_COUNTS)
    head = ldc.load_mnist("train", limit=100)
    np.testing.assert_array_equal(head.images, train.images[:100])
    assert len(train[:10]) == 10
