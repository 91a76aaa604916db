"""Published models: downloaded from a local server, verified, stored in the cache; every failure trains instead.

A local HTTP server (a fixture, no internet) serves a release written by
``ldc.published.publish`` and misbehaves on request: a file tampered with,
cut short or too long, a 404, a server that stalls or dies mid-download, a
registry entry for another configuration. Each failure must end in training,
with one line saying why, and leave the cache holding no bad entry.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ldc
from ldc import cache, published
from tests.conftest import TINY, synthetic_digits

ROOT = Path(__file__).resolve().parents[1]


class Release:
    """A folder of published files and its registry, served over HTTP on 127.0.0.1 with switchable misbehaviour."""

    def __init__(self, folder):
        self.folder, self.registry_path, self.mode, self.requests = folder, folder / "registry.json", {}, []
        release = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                release.requests.append(name)
                mode = release.mode.get(name)
                if mode == "stall":
                    time.sleep(5)
                    return
                if mode == "die":
                    data = (folder / name).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                super().do_GET()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def registry(self):
        return json.loads(self.registry_path.read_text())

    def write_registry(self, registry):
        self.registry_path.write_text(json.dumps(registry))

    def entry(self, config):
        return self.registry()["models"][config.cache_key()]


def tiny(lmbda):
    return ldc.TrainConfig(**{**TINY, "lmbda": lmbda})


@pytest.fixture
def release(tmp_path, monkeypatch, synthetic_mnist):
    """Two tiny models trained on synthetic digits, published into a served folder; a fresh, empty cache after."""
    configs = [tiny(100.0), tiny(200.0)]
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path / "maintainer-cache"))
    digits = synthetic_digits(16)
    originals = {}
    for config in configs:
        trained = ldc.load_or_train(config, verbose=False)
        originals[config.cache_key()] = (trained.fingerprint, trained.codec().compress(digits).strings)

    def measure(config):
        m = ldc.load_or_train(config, verbose=False).codec().measure(digits)
        return {"test_digits": m["digits"], "test_rate_bits": m["information_bits"], "test_mae": m["mae"]}

    published.publish(configs, tmp_path / "release", measure, log=lambda line: None)
    served = Release(tmp_path / "release")
    served.configs, served.originals, served.digits = configs, originals, digits
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path / "reader-cache"))
    monkeypatch.setenv("LDC_MODELS_URL", served.url)
    monkeypatch.setenv("LDC_MODELS_REGISTRY", str(served.registry_path))
    monkeypatch.setenv("LDC_MODELS_TIMEOUT", "1")
    yield served
    served.server.shutdown()


def load(config):
    lines = []
    return ldc.load_or_train(config, log=lines.append), lines


def assert_no_bad_entry(config):
    """The failed download left nothing: ``config``'s entry is the model trained instead, and no partial file
    remains."""
    assert not any((cache.cache_dir() / "downloads").glob("*")), "a partial download was left behind"
    arrays, meta = cache.load_entry(cache.entry_path(config.cache_key()))
    assert "release" not in meta, "the cache holds the published file that failed its checks"


def test_a_published_model_loads_from_an_empty_cache_and_compresses_to_the_same_bytes(release):
    config = release.configs[0]
    trained, lines = load(config)
    fingerprint, strings = release.originals[config.cache_key()]
    assert trained.cache == "published" and trained.release == "models-v1"
    assert trained.fingerprint == fingerprint
    assert trained.codec().compress(release.digits).strings == strings
    assert lines[-1] == f"downloaded {config.describe()} ({release.entry(config)['size'] / 1e6:.1f} MB, verified)"
    again, lines = load(config)
    assert again.cache == "hit" and lines == [f"model cache: {config.describe()} (from models-v1)"]
    assert release.requests == [release.entry(config)["file"]]  # downloaded once


def tamper(release, config):
    path = release.folder / release.entry(config)["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def truncate(release, config):
    path = release.folder / release.entry(config)["file"]
    path.write_bytes(path.read_bytes()[:-1000])


def lengthen(release, config):
    path = release.folder / release.entry(config)["file"]
    path.write_bytes(path.read_bytes() + bytes(5000))


def swap_entries(release, config):
    registry = release.registry()
    other = release.configs[1].cache_key()
    registry["models"][config.cache_key()] = registry["models"][other]
    release.write_registry(registry)


def missing(release, config):
    (release.folder / release.entry(config)["file"]).unlink()


def stall(release, config):
    release.mode[release.entry(config)["file"]] = "stall"


def die(release, config):
    release.mode[release.entry(config)["file"]] = "die"


def offline(release, config, monkeypatch):
    monkeypatch.setenv("LDC_MODELS_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens


def malformed_registry(release, config):
    release.registry_path.write_text("{not json")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("failure, why", [
    (tamper, "its SHA-256 is not the one the registry pins"),
    (truncate, "its SHA-256 is not the one the registry pins"),
    (lengthen, "the server sent more than the"),
    (swap_entries, "holds"),
    (missing, "the server answered HTTP 404"),
    (stall, "the server sent nothing for 1 s"),
    (die, ""),
    (offline, "cannot download it"),
    (malformed_registry, "cannot be read"),
], ids=lambda value: getattr(value, "__name__", ""))
def test_every_failure_trains_instead_with_one_line_and_leaves_no_bad_entry(release, monkeypatch, failure, why):
    config = release.configs[0]
    if failure is offline:
        failure(release, config, monkeypatch)
    else:
        failure(release, config)
    trained, lines = load(config)
    said = [line for line in lines if line.startswith("published model:")]
    print(f"\n{failure.__name__}: {said}")
    assert trained.cache == "miss" and trained.release is None
    assert len(said) == 1 and why in said[0] and said[0].endswith("; training it instead"), lines
    assert "\n" not in said[0] and "Traceback" not in said[0]
    assert_no_bad_entry(config)


def test_ldc_pretrained_0_never_downloads(release, monkeypatch):
    monkeypatch.setenv("LDC_PRETRAINED", "0")
    trained, lines = load(release.configs[0])
    assert trained.cache == "miss" and release.requests == [] and not any("published" in line for line in lines)


def test_a_bad_switch_is_named_before_anything_happens(release, monkeypatch):
    monkeypatch.setenv("LDC_PRETRAINED", "maybe")
    with pytest.raises(ldc.ConfigurationError, match="LDC_PRETRAINED='maybe'"):
        ldc.load_or_train(release.configs[0])
    monkeypatch.setenv("LDC_PRETRAINED", "1")
    monkeypatch.setenv("LDC_MODELS_TIMEOUT", "-3")
    with pytest.raises(ldc.ConfigurationError, match="LDC_MODELS_TIMEOUT"):
        ldc.load_or_train(release.configs[0])
    assert release.requests == []


def test_a_release_in_a_local_folder_is_copied_with_the_same_checks(release, monkeypatch):
    monkeypatch.setenv("LDC_MODELS_URL", str(release.folder))
    trained, _ = load(release.configs[1])
    assert trained.cache == "published" and release.requests == []
    tamper(release, release.configs[0])
    trained, lines = load(release.configs[0])
    assert trained.cache == "miss" and "is not the file the registry pins" in lines[0]
    assert_no_bad_entry(release.configs[0])


def test_a_configuration_the_registry_does_not_list_trains_without_a_word(release):
    trained, lines = load(tiny(300.0))
    assert trained.cache == "miss" and not any("published" in line for line in lines)
    assert release.requests == []


def test_prepare_downloads_what_is_published_and_trains_the_rest(release):
    from ldc import experiments

    lines = []
    done = experiments.prepare([*release.configs, tiny(300.0)], log=lines.append)
    assert (done.found, done.downloaded, done.trained) == (0, 2, 1)
    assert sum(line.startswith("downloaded ") for line in lines) == 2


@pytest.mark.integration
@pytest.mark.timeout(900)
def test_python_m_ldc_publish_quick_makes_a_release_readers_load_unchanged(tmp_path):
    """The command a maintainer runs, on real MNIST: every book model of quick mode, fetched back bit for bit."""
    env = dict(os.environ, LDC_CACHE_DIR=str(tmp_path / "maintainer"), LDC_QUICK="1")
    made = subprocess.run([sys.executable, "-m", "ldc", "publish", str(tmp_path / "release")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stderr[-2000:]
    served = Release(tmp_path / "release")
    registry = served.registry()
    configs = ldc.experiments.book_configs(quick=True)
    assert sorted(registry["models"]) == sorted(config.cache_key() for config in configs)
    digits = ldc.load_mnist("test", limit=50).images
    os.environ["LDC_CACHE_DIR"] = env["LDC_CACHE_DIR"]
    classifier = ldc.experiments.classifier(quick=True)
    codecs = [config for config in configs if config != classifier]
    assert len(codecs) == len(configs) - 1
    originals = {c.cache_key(): ldc.load_or_train(c, verbose=False).codec().compress(digits).strings for c in codecs}
    labels = ldc.load_or_train(classifier, verbose=False).predict(digits)
    os.environ.update(LDC_CACHE_DIR=str(tmp_path / "reader"), LDC_MODELS_URL=served.url,
                      LDC_MODELS_REGISTRY=str(served.registry_path))
    try:
        for config in codecs:
            trained = ldc.load_or_train(config, verbose=False)
            entry = registry["models"][config.cache_key()]
            assert trained.cache == "published" and trained.fingerprint.hex() == entry["fingerprint"]
            assert trained.codec().compress(digits).strings == originals[config.cache_key()]
        fetched = ldc.load_or_train(classifier, verbose=False)
        assert fetched.cache == "published" and np.array_equal(fetched.predict(digits), labels)
        assert registry["models"][classifier.cache_key()]["test_accuracy"] > 0.5
    finally:
        for name in ("LDC_MODELS_URL", "LDC_MODELS_REGISTRY"):
            os.environ.pop(name, None)
        served.server.shutdown()
    size = sum(entry["size"] for entry in registry["models"].values())
    print(f"\n{len(configs)} quick models published ({size / 1e6:.1f} MB), each fetched back bit for bit")
    shutil.rmtree(tmp_path / "release")


def test_the_registry_says_where_its_files_are(release, monkeypatch):
    monkeypatch.delenv("LDC_MODELS_URL")
    registry = release.registry()
    assert "url" not in registry  # published without an address: the reader is told, in one line, and trains
    trained, lines = load(release.configs[0])
    assert trained.cache == "miss" and "names no address for its files" in lines[0]
    registry["url"] = release.url
    release.write_registry(registry)
    trained, _ = load(release.configs[1])
    assert trained.cache == "published" and release.requests == [release.entry(release.configs[1])["file"]]


def test_publishing_the_same_cache_twice_gives_the_same_bytes(release, monkeypatch, tmp_path):
    monkeypatch.setenv("LDC_CACHE_DIR", str(tmp_path / "maintainer-cache"))

    def measure(config):
        return {"test_digits": 16}

    first = published.publish(release.configs, tmp_path / "again-1", measure, log=lambda line: None,
                              release="models-x", url="https://example.org/r/models-x")
    second = published.publish(release.configs, tmp_path / "again-2", measure, log=lambda line: None,
                               release="models-x", url="https://example.org/r/models-x")
    assert first == second and first["url"] == "https://example.org/r/models-x/"
    names = sorted(p.name for p in (tmp_path / "again-1").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again-2").iterdir()) and "registry.json" in names
    for name in names:
        assert (tmp_path / "again-1" / name).read_bytes() == (tmp_path / "again-2" / name).read_bytes(), name
    assert "created" not in json.dumps(first)
