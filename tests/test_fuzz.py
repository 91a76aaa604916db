"""Fuzzing every format a user can hand ldc: containers, .npy files, images, cache entries, command lines.

Property-based (hypothesis), at least 1,000 generated cases per format and run.
Every case must end in the documented error type with a one-line message, or
in a correct result: never a traceback, a hang, silent garbage, or memory
beyond the stated bound. A case that runs past a hang guard (60 s) fails; no
case is held to a tighter time, so a busy machine cannot fail these tests.
Each test prints its count, its longest single case and the process's peak
memory.
"""
import io
import json
import resource
import signal
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import ldc
import ldc.data  # noqa: F401  imports TensorFlow now: its one-time import (seconds, ~400 MB) is no case's cost
from ldc import cache
from ldc.cli import main, read_digits
from ldc.container import MAGIC

CASES = 1000
FUZZ = settings(max_examples=CASES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
# Decoding a file may use about 1 KB per digit it holds (ldc.container.MAX_COUNT of them at most); the
# cases here are small, so the whole process must stay within this of where it started.
MEMORY_BOUND_MB = 300
HANG_GUARD_SECONDS = 60  # a hang guard, not a speed test: the slowest case here takes milliseconds


class HangGuard(Exception):
    """A single case ran past HANG_GUARD_SECONDS."""


def _hang(signum, frame):
    raise HangGuard(f"a single case ran past the {HANG_GUARD_SECONDS} s hang guard")


class Tally:
    """Counts the cases, guards each against a hang, times the longest one, and checks the peak memory at the end."""

    def __init__(self, name):
        self.name, self.cases, self.longest, self.outcomes = name, 0, 0.0, {}
        self.start_rss = self._rss_mb()

    @staticmethod
    def _rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def run(self, case):
        previous = signal.signal(signal.SIGALRM, _hang)
        signal.alarm(HANG_GUARD_SECONDS)
        started = time.perf_counter()
        try:
            outcome = case()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        self.longest = max(self.longest, time.perf_counter() - started)
        self.cases += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def report(self):
        """Print the count, outcomes, longest case and peak memory; assert the count and the memory bound."""
        peak = self._rss_mb()
        print(f"\n{self.name}: {self.cases} cases {self.outcomes}; longest {self.longest * 1000:.0f} ms; "
              f"peak memory {peak:.0f} MB (+{peak - self.start_rss:.0f} MB)")
        assert self.cases >= CASES
        assert peak - self.start_rss < MEMORY_BOUND_MB


def one_line(err):
    text = str(err)
    assert "\n" not in text and "Traceback" not in text and text, text


def raw_container(version, flags, fingerprint, count, description, payload, crc_ok=True):
    body = (struct.pack("<8sBB16sIH", MAGIC, version, flags, fingerprint, count, len(description)) + description
            + struct.pack("<I", len(payload)) + payload)
    crc = zlib.crc32(body) if crc_ok else zlib.crc32(body) ^ 1
    return body + struct.pack("<I", crc)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                         st.floats(allow_nan=False), st.text(max_size=300))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=20)
descriptions = st.one_of(
    st.dictionaries(st.text(max_size=250), json_values, max_size=40).map(lambda d: json.dumps(d).encode()),
    st.integers(1, 3000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 2000).map(lambda depth: b'{"lmbda":' + b"[" * depth + b"]" * depth + b"}"),
    st.binary(max_size=300),
    st.just(b"{}"),
)


@pytest.mark.timeout(600)
def test_containers_with_hostile_fields_and_a_valid_checksum(file_codec):
    """Structure-aware: every field hostile, the layout and CRC right, so each field's check is what refuses it."""
    tally = Tally("containers")
    own = json.dumps(file_codec.description).encode()

    @FUZZ
    @given(version=st.one_of(st.just(3), st.integers(0, 255)), flags=st.one_of(st.just(0), st.integers(0, 255)),
           fingerprint=st.one_of(st.just(file_codec.fingerprint), st.binary(min_size=16, max_size=16)),
           count=st.one_of(st.integers(0, 64), st.integers(0, 2 ** 32 - 1), st.just(2 ** 18)),
           description=st.one_of(st.just(own), descriptions),
           payload=st.one_of(st.binary(max_size=400), st.integers(0, 64).map(lambda n: bytes(4 * n))),
           crc_ok=st.booleans())
    def check(version, flags, fingerprint, count, description, payload, crc_ok):
        data = raw_container(version, flags, fingerprint, count, description, payload, crc_ok)

        def case():
            try:
                digits = file_codec.from_container(ldc.unpack(data))
            except ldc.ContainerError as err:
                one_line(err)
                return "refused"
            # Accepted: only a well-formed file of this model, whose payload decodes to that many digits.
            assert crc_ok and version == 3 and flags == 0 and fingerprint == file_codec.fingerprint
            assert digits.shape == (count, 28, 28) and digits.dtype == np.uint8
            return "decoded"
        tally.run(case)

    check()
    tally.report()


npy_dtypes = st.sampled_from(["|u1", "<i2", ">i4", "<f4", ">f8", "<c8", "|b1", "|O", "|S3", "<U2", "|V4", "<m8[s]"])
npy_shapes = st.one_of(st.just((2, 28, 28)), st.just((28, 28)), st.just((1, 28, 28, 1)),
                       st.lists(st.integers(0, 40), max_size=5).map(tuple),
                       st.tuples(st.integers(0, 2 ** 40), st.just(28), st.just(28)))


@pytest.mark.timeout(600)
def test_npy_files_with_any_header(tmp_path):
    tally = Tally(".npy headers")
    path = tmp_path / "digits.npy"

    @FUZZ
    @given(dtype=npy_dtypes, shape=npy_shapes, fortran=st.booleans(), extra=st.integers(-50, 50),
           fill=st.integers(0, 255), raw_header=st.one_of(st.none(), st.binary(max_size=80)))
    def check(dtype, shape, fortran, extra, fill, raw_header):
        with open(path, "wb") as f:
            if raw_header is not None:
                f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw_header)) + raw_header)
            else:
                np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": fortran, "shape": shape})
            size = int(np.prod(shape, dtype=np.float64)) * 4 if np.prod(shape, dtype=np.float64) < 1e6 else 64
            f.write(bytes([fill]) * max(size + extra, 0))

        def case():
            try:
                digits = read_digits(path)
            except ldc.InputError as err:
                one_line(err)
                return "refused"
            assert digits.dtype == np.uint8 and digits.ndim == 3 and digits.shape[1:] == (28, 28)
            return "read"
        tally.run(case)

    check()
    tally.report()


@pytest.mark.timeout(600)
def test_images_of_any_mode_size_and_truncation(tmp_path):
    tally = Tally("images")
    path = tmp_path / "digit.png"
    modes = st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F", "CMYK"])

    @FUZZ
    @given(mode=modes, width=st.one_of(st.just(28), st.integers(1, 60)),
           height=st.one_of(st.just(28), st.integers(1, 60)),
           fmt=st.sampled_from(["PNG", "PNG", "JPEG", "BMP", "GIF"]), cut=st.one_of(st.none(), st.floats(0, 1)),
           seed=st.integers(0, 2 ** 16))
    def check(mode, width, height, fmt, cut, seed):
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
        image = Image.fromarray(pixels).convert(mode)
        for chosen in (fmt, "PNG", "TIFF"):  # the first format that can store this mode
            buffer = io.BytesIO()
            try:
                image.save(buffer, format=chosen)
                break
            except (OSError, KeyError, ValueError):
                continue
        data = buffer.getvalue()
        kept = len(data) if cut is None else int(len(data) * cut)
        path.write_bytes(data[:kept])

        def case():
            try:
                digits = read_digits(path)
            except ldc.InputError as err:
                one_line(err)
                return "refused"
            assert digits.shape == (1, 28, 28) and digits.dtype == np.uint8 and (width, height) == (28, 28)
            # Cut only after its pixel data (IEND, a chunk's CRC), a PNG still holds the whole image:
            # accepted, it must give exactly the pixels of the whole file, never made-up ones.
            whole = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
            np.testing.assert_array_equal(digits[0], whole)
            return "read" if kept == len(data) else "read, cut after its pixels"
        tally.run(case)

    check()
    tally.report()


@pytest.mark.timeout(600)
def test_a_cache_entry_with_any_byte_flipped(isolated_cache):
    """Every byte position of a real entry (the cache's own format), each flipped: refused, or the same arrays."""
    arrays = {"weights/fc/kernel": np.arange(120, dtype=np.float32).reshape(10, 12),
              "tables/counts": np.arange(24, dtype=np.int32)}
    path = cache.entry_path("f" * 64)
    cache.save_entry(path, arrays, {"config": {"lmbda": 1.0}})
    original = path.read_bytes()
    tally = Tally("cache entries")
    for position in range(len(original)):
        for bit in (0x01, 0x80):
            damaged = bytearray(original)
            damaged[position] ^= bit
            path.write_bytes(bytes(damaged))

            def case():
                try:
                    loaded, _ = cache.load_entry(path)
                except cache.CorruptEntryError as err:
                    one_line(err)
                    return "refused"
                assert loaded.keys() == arrays.keys()
                for name, array in arrays.items():  # a flip the zip does not read (a timestamp): same data
                    np.testing.assert_array_equal(loaded[name], array)
                return "same arrays"
            tally.run(case)
    tally.report()


@pytest.mark.timeout(600)
def test_command_lines_of_any_arguments(capsys, tmp_path, monkeypatch):
    """Any argv: exit 0, 1 (one line on stderr) or 2 (usage, one line); models and data are stubbed out."""
    import ldc.zoo

    def no_training(config, *args, **kwargs):
        raise ldc.LdcError(f"stub: would train {config.describe()}")
    monkeypatch.setattr(ldc.zoo, "load_or_train", no_training)
    (tmp_path / "ok.npy").write_bytes(b"")
    np.save(tmp_path / "ok.npy", np.zeros((1, 28, 28), np.uint8))
    (tmp_path / "junk.ldc").write_bytes(b"junk")
    (tmp_path / "folder").mkdir()
    tally = Tally("command lines")
    values = st.one_of(st.sampled_from(["2000", "-1", "0", "nan", "inf", "1e30", "1e-30", "4294967296", "3.5", "",
                                        "2e5", "50", "mlp", "conv", "x"]),
                       st.text(max_size=12))
    paths = st.sampled_from([str(tmp_path / name) for name in
                             ("ok.npy", "junk.ldc", "folder", "missing.npy", "out.ldc", "out.npy", "ok.png")])
    options = st.sampled_from(["--latent-dims", "--architecture", "--epochs", "--steps-per-epoch", "--seed",
                               "--quick", "--no-cache", "--help-me"])

    @st.composite
    def argvs(draw):
        """Mostly well-formed command lines (so most cases reach ldc's own checks), with hostile values."""
        command = draw(st.sampled_from(["train", "compress", "compress", "decompress", "decompress", "fly"]))
        argv = [command]
        if command in ("train", "compress") and draw(st.integers(0, 9)):
            argv += ["--lmbda", draw(st.one_of(st.sampled_from(["2000", "300"]), values))]
        for _ in range(draw(st.integers(0, 3))):
            option = draw(options)
            argv += [option] if option in ("--quick", "--no-cache") else [option, draw(values)]
        if command in ("compress", "decompress"):
            argv += [draw(paths), draw(paths)]
        return argv

    @FUZZ
    @given(flat=argvs())
    def check(flat):

        def case():
            try:
                status = main(flat)
            except SystemExit as exit_info:  # argparse: usage errors
                status = exit_info.code
            err = capsys.readouterr().err
            assert status in (0, 1, 2), (flat, status)
            if status:
                assert err.count("\n") == 1 and "Traceback" not in err, (flat, err)
            return status
        tally.run(case)

    check()
    tally.report()
