"""Shared fixtures. Unit tests use small synthetic digits; tests marked ``integration`` read real MNIST."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty model cache and runs in full mode unless it asks otherwise."""
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LDC_QUICK", raising=False)
    return tmp_path / "cache"


def synthetic_digits(n, seed=0):
    """Return n uint8 (28, 28) images of blurry strokes: not MNIST, but with digit-like structure."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    images = np.zeros((n, 28, 28))
    for i in range(n):
        for _ in range(3):
            cy, cx = rng.uniform(8, 20, size=2)
            angle = rng.uniform(0, np.pi)
            distance = np.abs((yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle))
            along = np.hypot(yy - cy, xx - cx)
            images[i] = np.maximum(images[i], np.exp(-distance ** 2 / 2.0) * (along < rng.uniform(4, 9)))
    return np.round(255 * images).astype(np.uint8)


@pytest.fixture(scope="session")
def digits():
    """64 synthetic uint8 digits (64, 28, 28)."""
    return synthetic_digits(64)


@pytest.fixture(scope="session")
def small_codec():
    """A codec over an untrained 8-latent model (seeded) with real coding tables: fast, deterministic."""
    import ldc
    from ldc._tf import tf

    tf.keras.utils.set_random_seed(1)
    model = ldc.CompressionModel(latent_dims=8)
    # Spread the prior so that the tables cover several symbols per dimension.
    model.prior.log_scales.assign(np.linspace(-1.0, 1.5, 8).astype(np.float32))
    return ldc.Codec(model, ldc.prior_tables(model.prior), description={"lmbda": 123.0, "latent_dims": 8})


@pytest.fixture(scope="session")
def real_container(small_codec, digits):
    """Bytes of a real container: 16 synthetic digits compressed by ``small_codec``."""
    import ldc

    compressed = small_codec.compress(digits[:16])
    return ldc.pack(compressed.strings, small_codec.fingerprint, small_codec.description)
