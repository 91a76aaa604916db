"""Shared fixtures. Unit tests use small synthetic digits; tests marked ``integration`` read real MNIST."""
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# This project's build machines keep files beside the checkout, in ../shared (the source documents,
# Colab's pins). Elsewhere (GitHub, a laptop) the tests that read them skip with one line; this
# project's CI sets LDC_REQUIRE_BUILD_DATA=1 (.ci/run), where their absence fails instead.
SHARED = Path(__file__).resolve().parents[2] / "shared"
REQUIRE_BUILD_DATA_ENV = "LDC_REQUIRE_BUILD_DATA"


def build_machine_file(relative, what):
    """Return ``../shared/<relative>`` (a Path); where it is missing, skip saying so, or fail under
    LDC_REQUIRE_BUILD_DATA=1."""
    path = SHARED / relative
    if not path.exists():
        message = f"{path} is missing: {what} (this project's build-machine data, beside the checkout)"
        if os.environ.get(REQUIRE_BUILD_DATA_ENV, "") not in ("", "0"):
            pytest.fail(message + f"; {REQUIRE_BUILD_DATA_ENV}=1 requires it")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty model cache and runs in full mode unless it asks otherwise."""
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LDC_QUICK", raising=False)
    return tmp_path / "cache"


# Both entropy backends where tensorflow-compression is installed (the pinned stack). Tests that need
# TFC carry the `tfc` marker: the modern stack's `make test` deselects them by name (-m "not tfc"), and
# run anyway there they fail, saying that tensorflow-compression is not installed.
BACKENDS = [pytest.param("tfc", marks=pytest.mark.tfc), "portable"]


def require_tfc():
    """Fail (never skip) with a clear message when tensorflow-compression is missing."""
    from ldc.backends import tfc_installed

    if not tfc_installed():
        pytest.fail("this test needs tensorflow-compression, which exists only on the pinned stack (Python 3.11); "
                    "the modern stack deselects it with -m 'not tfc'")


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Run the test once per entropy backend, with LDC_ENTROPY set to it."""
    if request.param == "tfc":
        require_tfc()
    monkeypatch.setenv("LDC_ENTROPY", request.param)
    return request.param


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


@pytest.fixture
def synthetic_mnist(monkeypatch):
    """Make training read small synthetic digits instead of MNIST (for tests of what surrounds training)."""
    import ldc
    import ldc.training

    def fake_load(split, limit=None, data_dir=None):
        images = synthetic_digits(limit or 64, seed=0 if split == "train" else 1)
        return ldc.Digits(images, np.zeros(len(images), np.int64))
    monkeypatch.setattr(ldc.training, "load_mnist", fake_load)


# A configuration that trains in about a second on synthetic_mnist.
TINY = dict(lmbda=100.0, latent_dims=6, epochs=1, steps_per_epoch=3, batch_size=16, train_digits=64, test_digits=32)


@pytest.fixture(scope="session")
def digits():
    """64 synthetic uint8 digits (64, 28, 28)."""
    return synthetic_digits(64)


def make_small_codec():
    """A codec over an untrained 8-latent model (seeded) with real coding tables, on the backend LDC_ENTROPY names."""
    import ldc
    from ldc._tf import tf

    tf.keras.utils.set_random_seed(1)
    model = ldc.CompressionModel(latent_dims=8)
    # Spread the prior so that the tables cover several symbols per dimension.
    model.prior.log_scales.assign(np.linspace(-1.0, 1.5, 8).astype(np.float32))
    return ldc.Codec(model, ldc.prior_tables(model.prior), description={"lmbda": 123.0, "latent_dims": 8})


@pytest.fixture(scope="session")
def small_codecs():
    """One small codec per backend, kept for the session (and released before TensorFlow shuts down)."""
    codecs = {}
    yield codecs
    codecs.clear()


@pytest.fixture
def small_codec(backend, small_codecs):
    """:func:`make_small_codec` on each entropy backend (built once per backend: the same weights on both)."""
    if backend not in small_codecs:
        small_codecs[backend] = make_small_codec()
    return small_codecs[backend]


@pytest.fixture(scope="session")
def file_codec(small_codecs):
    """The small codec as files use it: whatever the backend, a file is one stream of the portable coder."""
    if "files" not in small_codecs:
        small_codecs["files"] = make_small_codec()
    return small_codecs["files"]


@pytest.fixture(scope="session")
def real_container(file_codec, digits):
    """Bytes of a real container: 16 synthetic digits in one stream."""
    import ldc

    return ldc.pack(file_codec.to_container(digits[:16]))
