import time

import numpy as np
import pytest

import ldc
import ldc.training
from ldc import cache
from tests.conftest import TINY


def test_entry_round_trip_and_no_leftovers(isolated_cache):
    arrays = {"a": np.arange(5, dtype=np.float32), "b": np.ones((2, 3), np.int32)}
    path = cache.entry_path("k" * 64)
    cache.save_entry(path, arrays, {"note": "x"})
    loaded, meta = cache.load_entry(path)
    assert meta["note"] == "x" and meta["entry_format"] == cache.ENTRY_FORMAT
    for name in arrays:
        np.testing.assert_array_equal(loaded[name], arrays[name])
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_the_same_entry_saved_twice_is_the_same_bytes(isolated_cache, monkeypatch):
    arrays = {"w": np.arange(1000, dtype=np.float32), "b": np.ones((2, 3), np.int32)}
    first, second = cache.entry_path("1" * 64), cache.entry_path("2" * 64)
    cache.save_entry(first, arrays, {"note": "x"})
    # a zip stamps members with the current time: a year later must not change a byte
    later = time.time() + 86400 * 400
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "localtime", lambda *args: real_localtime(later))
    cache.save_entry(second, dict(reversed(list(arrays.items()))), {"note": "x"})
    assert first.read_bytes() == second.read_bytes()
    with np.load(first) as npz:  # an ordinary .npz to numpy
        assert sorted(npz.files) == ["__meta__", "b", "w"]


real_localtime = time.localtime


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "swap_arrays"])
def test_damaged_entries_are_detected(isolated_cache, damage):
    path = cache.entry_path("d" * 64)
    cache.save_entry(path, {"w": np.arange(1000, dtype=np.float32)}, {})
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "flip":
        data[len(data) // 3] ^= 0x40
    elif damage == "garbage":
        data = bytearray(b"not a zip file at all" * 10)
    elif damage == "empty":
        data = bytearray()
    elif damage == "swap_arrays":  # a valid npz whose arrays do not match the recorded checksum
        other = cache.entry_path("e" * 64)
        cache.save_entry(other, {"w": np.zeros(1000, dtype=np.float32)}, {})
        good_meta = cache.read_meta(path)
        import io
        import json
        buffer = io.BytesIO()
        np.savez(buffer, w=np.zeros(1000, np.float32),
                 __meta__=np.frombuffer(json.dumps(good_meta).encode(), np.uint8))
        data = bytearray(buffer.getvalue())
    path.write_bytes(bytes(data))
    with pytest.raises(cache.CorruptEntryError):
        cache.load_entry(path)


def test_load_or_train_caches_then_hits(isolated_cache, synthetic_mnist):
    config = ldc.TrainConfig(**TINY)
    first = ldc.load_or_train(config, verbose=False)
    assert first.cache == "miss" and first.path.exists()
    second = ldc.load_or_train(config, verbose=False)
    assert second.cache == "hit"
    assert second.fingerprint == first.fingerprint
    assert second.history == first.history
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["truncate", "flip_weights"])
def test_a_corrupt_entry_is_rebuilt_not_loaded(isolated_cache, synthetic_mnist, damage):
    config = ldc.TrainConfig(**TINY)
    path = ldc.load_or_train(config, verbose=False).path
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    else:
        data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    messages = []
    rebuilt = ldc.load_or_train(config, verbose=False, log=messages.append)
    assert rebuilt.cache == "miss"
    assert any("removed it, training again" in m for m in messages), messages
    again = ldc.load_or_train(config, verbose=False)
    assert again.cache == "hit" and again.fingerprint == rebuilt.fingerprint


def test_find_model_by_fingerprint(isolated_cache, synthetic_mnist):
    trained = ldc.load_or_train(ldc.TrainConfig(**TINY), verbose=False)
    found = ldc.find_model(trained.fingerprint)
    assert found.fingerprint == trained.fingerprint and found.config == trained.config


def test_missing_model_names_the_command_to_train_it(isolated_cache):
    with pytest.raises(ldc.ModelNotFoundError, match=r"python -m ldc train --lmbda 2000 --epochs 15"):
        ldc.find_model(b"\x01" * 16, {"lmbda": 2000.0, "latent_dims": 50, "epochs": 15, "quick": False})


def test_the_suggested_command_rebuilds_the_same_configuration(isolated_cache):
    from ldc.arguments import build_parser, config_from_args

    for config in (ldc.TrainConfig(lmbda=300, seed=7, steps_per_epoch=40, epochs=3, latent_dims=20, quick=False),
                   ldc.TrainConfig(lmbda=500, quick=True)):
        with pytest.raises(ldc.ModelNotFoundError) as raised:
            ldc.find_model(b"\x02" * 16, config.to_dict())
        command = str(raised.value).split("`")[1].split()
        assert command[:3] == ["python", "-m", "ldc"]
        assert config_from_args(build_parser().parse_args(command[3:])) == config


def test_cache_dir_follows_the_environment(isolated_cache, monkeypatch, tmp_path):
    assert cache.cache_dir() == isolated_cache
    monkeypatch.delenv("LDC_CACHE_DIR")
    assert cache.cache_dir().name == "ldc"


def test_an_unwritable_cache_still_returns_the_trained_model(isolated_cache, synthetic_mnist, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(cache, "save_entry", refuse)
    messages = []
    trained = ldc.load_or_train(ldc.TrainConfig(**TINY), verbose=False, log=messages.append)
    assert trained.cache == "off" and trained.path is None and len(trained.history) == 1
    assert any("could not store" in m for m in messages)
