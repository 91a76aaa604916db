import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ldc
from ldc.container import MAGIC

FINGERPRINT = bytes(range(16))


def _container(payload=b"\x01\x02\x03\x04", count=3, description=None):
    return ldc.Container(FINGERPRINT, count, payload, description if description is not None else {"lmbda": 2000.0})


def test_round_trip_keeps_fingerprint_count_payload_and_description():
    container = _container(bytes(range(256)) * 3, 40, {"lmbda": 2000.0, "latent_dims": 50})
    assert ldc.unpack(ldc.pack(container)) == container


def test_empty_container_round_trips():
    empty = _container(b"", 0, {})
    assert ldc.unpack(ldc.pack(empty)) == empty


def test_layout_is_the_documented_one():
    data = ldc.pack(_container(b"abcd", 2, {}))
    assert data[:8] == MAGIC and data[8] == 3 and data[9] == 0
    assert data[10:26] == FINGERPRINT
    assert struct.unpack("<IH", data[26:32]) == (2, 2)  # count, description length ("{}")
    assert data[32:34] == b"{}"
    assert struct.unpack("<I", data[34:38]) == (4,)  # payload length
    assert data[38:42] == b"abcd"
    assert struct.unpack("<I", data[42:]) == (zlib.crc32(data[:42]),)


def test_file_round_trip_is_atomic(tmp_path):
    path = tmp_path / "digits.ldc"
    size = ldc.write_container(path, _container(b"xyz!", 1))
    assert path.stat().st_size == size
    assert ldc.read_container(path).payload == b"xyz!"
    assert [p.name for p in tmp_path.iterdir()] == ["digits.ldc"]  # no temporary file left behind


@pytest.mark.parametrize("version, why", [(1, "one string per digit"), (2, "no check of the digits in its stream")])
def test_older_versions_are_refused_with_a_message_that_says_why(real_container, version, why):
    older = real_container[:8] + bytes([version]) + real_container[9:]
    with pytest.raises(ldc.ContainerError,
                       match=f"format version {version} \\({why}, ldc 0.{version}\\) is no longer read"):
        ldc.unpack(older)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: b"", "empty file"),
    (lambda d: d[:20], "truncated"),
    (lambda d: d[:-1], "truncated"),
    (lambda d: d + b"\x00", "trailing bytes"),
    (lambda d: b"\x89PNG\r\n\x1a\n" + d[8:], "PNG image"),
    (lambda d: b"\x93NUMPY" + d[6:], "NumPy"),
    (lambda d: b"hello world, this is text" + d, "not an ldc container"),
    (lambda d: d[:8] + b"\x07" + d[9:], "format version 7"),
    (lambda d: d[:9] + b"\x01" + d[10:], "flags"),
    (lambda d: d[:-5] + bytes([d[-5] ^ 0x10]) + d[-4:], "checksum mismatch"),
    (lambda d: d[:26] + struct.pack("<I", 1000) + d[30:], "checksum mismatch"),
    (lambda d: d[:26] + struct.pack("<I", 10 ** 6) + d[30:], "announces 1,000,000 digits; a container holds at most"),
    (lambda d: d[:30] + struct.pack("<H", 60000) + d[32:], "announces a 60000-byte model description"),
])
def test_each_kind_of_damage_gets_its_own_message(real_container, mutate, message):
    with pytest.raises(ldc.ContainerError, match=message):
        ldc.unpack(mutate(real_container))


def test_pack_rejects_what_it_cannot_store():
    with pytest.raises(ValueError, match="16 bytes"):
        ldc.pack(ldc.Container(b"short", 1, b""))
    with pytest.raises(ValueError, match="count"):
        ldc.pack(ldc.Container(FINGERPRINT, -1, b""))
    with pytest.raises(ValueError, match="string over 200 characters"):
        ldc.pack(_container(description={"x": "y" * 201}))
    with pytest.raises(ValueError, match="at most 4096"):
        ldc.pack(_container(description={f"field{i}": "y" * 190 for i in range(30)}))
    with pytest.raises(ValueError, match="is a list"):
        ldc.pack(_container(description={"lmbda": [1, 2]}))
    with pytest.raises(ValueError, match="count"):
        ldc.pack(ldc.Container(FINGERPRINT, 2 ** 18 + 1, b""))
    with pytest.raises(ldc.InputError, match="at most 12,288"):
        ldc.pack(ldc.Container(FINGERPRINT, 2, bytes(12289)))


def _corrupt(data, kind, position, value, length):
    position %= len(data)
    if kind == "flip":
        return data[:position] + bytes([data[position] ^ (1 << (value % 8))]) + data[position + 1:]
    if kind == "set":
        replaced = value % 256 if value % 256 != data[position] else (data[position] + 1) % 256
        return data[:position] + bytes([replaced]) + data[position + 1:]
    if kind == "truncate":
        return data[:position]
    if kind == "insert":
        return data[:position] + bytes([value % 256]) * length + data[position:]
    if kind == "delete":
        return data[:position] + data[position + length:]
    if kind == "append":
        return data + bytes([value % 256]) * length
    if kind == "overwrite":
        chunk = bytes((value + i) % 256 for i in range(length))
        out = data[:position] + chunk + data[position + length:]
        return out if out != data else data[:position] + bytes([(data[position] + 1) % 256]) + data[position + 1:]
    if kind == "splice_header":  # a well-formed header from another file in front of this body
        other = ldc.pack(ldc.Container(bytes([value % 256]) * 16, value % 5, b"\x01" * (length % 7 + 1)))
        return other[:32 + position % 8] + data[32 + position % 8:]
    raise AssertionError(kind)


corruptions = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "insert", "delete", "append", "overwrite", "splice_header"]),
    st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.integers(1, 64))


@pytest.mark.timeout(300)
def test_reader_rejects_thousands_of_random_corruptions(real_container, file_codec):
    """Every corrupted container is refused with ContainerError: never a crash, a hang or other digits."""
    tried = []
    started = time.perf_counter()

    @settings(max_examples=1500, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(corruption=corruptions)
    def check(corruption):
        damaged = _corrupt(real_container, *corruption)
        if damaged == real_container:  # e.g. a splice that rebuilt the same bytes: nothing to detect
            return
        tried.append(corruption[0])
        with pytest.raises(ldc.ContainerError):
            file_codec.from_container(ldc.unpack(damaged))  # decoding is reached only if unpack wrongly accepted it

    check()
    elapsed = time.perf_counter() - started
    kinds = {kind: tried.count(kind) for kind in set(tried)}
    print(f"\n{len(tried)} corrupted containers refused in {elapsed:.1f} s: {kinds}")
    assert len(tried) >= 1000
    assert len(kinds) == 8


def test_codec_refuses_a_container_from_another_model(tmp_path, file_codec, digits):
    path = tmp_path / "other.ldc"
    container = file_codec.to_container(digits[:3])
    ldc.write_container(path, ldc.Container(b"\x00" * 16, 3, container.payload, {"lmbda": 9.0}))
    with pytest.raises(ldc.ContainerError, match="written by model 00000000"):
        file_codec.read(path)


def test_codec_reads_its_own_file(tmp_path, file_codec, digits):
    path = tmp_path / "mine.ldc"
    size = file_codec.write(path, digits[:10])
    assert size == path.stat().st_size
    np.testing.assert_array_equal(file_codec.read(path), file_codec.decode_latents(
        np.round(file_codec.latents(digits[:10]))))
