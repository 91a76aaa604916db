"""No bytes make decoding hang or explode: the work of one decode is bounded by the integers it must produce.

tensorflow-compression's decoder reads an escaped value's Elias-gamma code
one bit at a time for as long as the bits say zero, and past a string's end
the bits are all zero: a string that ends right after an escape symbol made
``Codec.decompress`` run for ever (chapter 5's build hung on one). ldc now
decodes escapes itself, through TFC's ops, and stops at the longest code an
encoder writes. These tests aim at that mechanism directly (strings crafted
to end in an escape, codes longer than any encoder writes, values at the
limits), check that the bounded decoder gives TFC's own results, and sweep
real models' strings and random bytes with every codec, each call under a
hang guard in a child process.
"""
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import ldc
from ldc import range_coding
from tests.conftest import make_small_codec, require_tfc

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_SECONDS = 60  # per call; the slowest call in the sweep takes milliseconds


def escape_boundary_string(tables, channel=0):
    """The two bytes that put a fresh decoder exactly on ``channel``'s escape symbol with nothing after it.

    A fresh decoder's interval is [0, 2**32); its first symbol's escape starts
    at (2**16 - escape count) << 16, so these bytes followed by the zeros a
    decoder reads past the end sit exactly on that boundary.
    """
    boundary = (1 << 16) - int(tables.counts[channel, tables.sizes[channel] - 1])
    return boundary.to_bytes(2, "big")


def tfc_string(tables, symbols, escapes=()):
    """Bytes from TFC's encoder as the per-digit coder writes them: an item's ``symbols``, then ``escapes``:
    ("side" | "length" | "byte", value), in the order the coder writes them (every side and length, then the bytes)."""
    import tensorflow_compression as tfc

    from ldc.tfc_backend import StringCoder

    coder = StringCoder(tables)
    handle = tfc.create_range_encoder([1], coder._lookup)
    handle = tfc.entropy_encode_index(handle, coder._index(len(symbols))[None], np.array([symbols], np.int32))
    if escapes:
        table = {"side": coder._side, "length": coder._length, "byte": coder._byte}
        handle = tfc.entropy_encode_index(handle, np.array([[table[k] for k, _ in escapes]], np.int32),
                                          np.array([[v for _, v in escapes]], np.int32))
    return bytes(tfc.entropy_encode_finalize(handle).numpy()[0])


def portable_string(tables, symbols, escapes=()):
    """Bytes from constriction's encoder as the per-digit coder writes them: an item's ``symbols`` (indices into
    each channel's table), then ``escapes``: ("bit" | "length", value) or ("chunk", bits, value)."""
    import constriction

    coder = range_coding.StringCoder(tables)
    models = coder._models
    encoder = constriction.stream.queue.RangeEncoder()
    symbols = np.asarray(symbols, dtype=np.int32)
    encoder.encode(symbols, coder._family, coder._position_tables((len(symbols) // tables.channels, tables.channels)))
    for step in escapes:
        model = {"bit": models.bit, "length": models.length}.get(step[0]) or models.chunks[step[1]]
        encoder.encode(step[-1], model)
    return range_coding._to_string(encoder.get_compressed())


def ending_in_an_escape(tables, backend, position, rng):
    """A string whose values are ordinary up to ``position``, where an escape symbol ends it: its code is missing."""
    symbols = []
    for j in range(tables.channels):
        escape = int(tables.sizes[j]) - 1
        symbols.append(escape if j == position else int(rng.integers(0, escape)))
    string = (tfc_string if backend == "tfc" else portable_string)(tables, symbols)
    return string


def long_escape_code(tables, backend, zeros):
    """One whole item: channel 0 escaped with a distance of min(zeros, 31) + 1 one-bits, every other channel at its
    lowest value.

    Both coders write a bit length as one symbol of 32, so it caps at 31
    bits below the leading one. See :func:`long_escape_value`.
    """
    escape = int(tables.sizes[0]) - 1
    symbols = [escape] + [0] * (tables.channels - 1)
    length = min(zeros, range_coding._LENGTH_BITS - 1)
    if backend == "tfc":
        rest = (1 << length) - 1
        count = -(-length // 8)
        tail = [("byte", b) for b in rest.to_bytes(count, "big")] if count else []
        return tfc_string(tables, symbols, [("side", 1), ("length", length)] + tail)
    escapes = [("bit", 1), ("length", length)]
    while length > 0:
        bits = min(length, range_coding._CHUNK_BITS)
        length -= bits
        escapes.append(("chunk", bits, (1 << bits) - 1))
    return portable_string(tables, symbols, escapes)


def long_escape_value(tables, backend, zeros):
    """The first value :func:`long_escape_code` codes: that far above channel 0's table."""
    length = min(zeros, range_coding._LENGTH_BITS - 1)
    return int(tables.offsets[0]) + int(tables.sizes[0]) - 2 + (1 << (length + 1)) - 1


def crafted_strings(codec, backend, seed=0):
    """The structure-aware cases for one codec: the boundary bytes, escapes at every position, codes of every length."""
    tables = codec._string_tables
    rng = np.random.default_rng(seed)
    strings = [escape_boundary_string(tables)]
    strings += [ending_in_an_escape(tables, backend, position, rng) for position in range(tables.channels)]
    strings += [long_escape_code(tables, backend, zeros) for zeros in range(0, 64)]
    return strings


def _run_guarded(code, env=None, timeout=HANG_GUARD_SECONDS):
    """Run Python ``code`` in a child; fail (naming the code) when it runs past the hang guard."""
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=dict(os.environ, **(env or {})))
    except subprocess.TimeoutExpired:
        pytest.fail(f"ran past the {timeout} s hang guard (a decode that does not end):\n{code}")


@pytest.mark.tfc
def test_a_string_ending_on_an_escape_is_refused_not_a_hang():
    require_tfc()
    result = _run_guarded(
        "from tests.conftest import make_small_codec\n"
        "from tests.test_decode_bounds import escape_boundary_string\n"
        "import ldc\n"
        "codec = make_small_codec()\n"
        "string = escape_boundary_string(codec._string_tables)\n"
        "try:\n"
        "    codec.decompress([string])\n"
        "except ldc.InputError as err:\n"
        "    print('refused:', string.hex(), err)\n"
        "print('random:', codec.decode_random([string]).shape)\n",
        env={"LDC_ENTROPY": "tfc"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: fffe" in result.stdout and "random: (1, 28, 28)" in result.stdout, result.stdout


@pytest.mark.parametrize("zeros", [0, 5, 22, 23, 24, 26, 30, 40, 63])
def test_escape_codes_of_every_length_decode_exactly_or_are_refused(backend, zeros):
    """A distance within ±2**24 decodes exactly; a longer one is refused, or decoded boundedly by chapter 6's coder."""
    tables = make_small_codec()._string_tables
    string = long_escape_code(tables, backend, zeros)
    expected = long_escape_value(tables, backend, zeros)
    if abs(expected) <= range_coding.LIMIT:
        values = ldc.RangeCoder(tables).decompress([string], (tables.channels,))[0]
        assert values[0] == expected and np.array_equal(values[1:], tables.offsets[1:])
    else:
        with pytest.raises(ldc.InputError):
            ldc.RangeCoder(tables).decompress([string], (tables.channels,))
    loose = ldc.RangeCoder(tables, decode_sanity_check=False).decompress([string], (tables.channels,))
    assert loose.shape == (1, tables.channels)


@pytest.mark.tfc
def test_tfc_strings_round_trip_escapes_and_are_tfc_s_own_bytes_without_them():
    require_tfc()
    import tensorflow_compression as tfc

    from ldc.tfc_backend import StringCoder, _flat_cdf

    tables = make_small_codec()._string_tables
    coder = StringCoder(tables)
    rng = np.random.default_rng(0)
    values = rng.integers(-3, 4, (500, tables.channels))
    escaped = rng.random(values.shape) < 0.05
    values[escaped] = rng.choice([-1, 1], escaped.sum()) * rng.integers(1, 2 ** 24, escaped.sum())
    values[0, :2] = [range_coding.LIMIT, -range_coding.LIMIT]  # the extremes an encoder takes
    strings = coder.compress(values)
    np.testing.assert_array_equal(coder.decompress(strings, (tables.channels,)), values)
    # An item with no value outside its tables: the very bytes the tutorial's entropy model writes.
    plain = ~(tables.symbols(values) == tables.sizes - 1).any(axis=1)
    flat = np.concatenate([np.concatenate([[-16, 0], np.cumsum(c[:n])]) for c, n in zip(tables.counts, tables.sizes)])
    model = tfc.ContinuousBatchedEntropyModel(prior=None, prior_shape=(tables.channels,), coding_rank=1,
                                              compression=True, cdf=flat.astype(np.int32), cdf_offset=tables.offsets,
                                              offset_heuristic=False)
    theirs = [bytes(b) for b in model.compress(values[plain].astype(np.float32)).numpy()]
    assert theirs == [s for s, keep in zip(strings, plain) if keep] and len(theirs) > 50
    assert _flat_cdf(tables)[0] == 16


def test_decoding_random_bytes_tries_at_most_the_bytes_a_decoder_can_read(monkeypatch):
    """Chapter 6's coder drops a byte and retries when constriction refuses one: bounded by the item, not the string."""
    tables = make_small_codec()._string_tables
    coder = range_coding.StringCoder(tables)
    calls = []
    real = coder._decode_one

    def counting(string, item_shape):
        calls.append(len(string))
        return real(string, item_shape)

    monkeypatch.setattr(coder, "_decode_one", counting)
    huge = np.random.default_rng(1).bytes(1 << 20)
    coder.decompress([huge], (tables.channels,), permissive=True)
    readable = range_coding.readable_bytes(tables.channels)
    assert max(calls) <= readable and len(calls) <= readable + 1
    print(f"\na 1 MB random string: {len(calls)} decode(s) of at most {readable} bytes")


# --- the sweep: every model's strings and random bytes through every codec ----------------------------------

SWEEP_CHILD = """
import json, sys, time
import numpy as np
import ldc
from tests.test_decode_bounds import crafted_strings

backend = sys.argv[1]
test = ldc.load_mnist("test", limit=250)
codecs = {lmbda: ldc.load_or_train(config, verbose=False).codec() \
for lmbda, config in ldc.experiments.lambda_sweep().items()}
own = {lmbda: codec.compress(test.images).strings for lmbda, codec in codecs.items()}
rng = np.random.default_rng(0)
randoms = [rng.bytes(length) for length in range(65) for _ in range(40)]
# The string that hung chapter 5's build on the machine that filed the issue (its models cannot be rebuilt here).
reported = bytes.fromhex("8ef7e171b399eab28bbed2d6ec51")
tally = {"calls": 0, "refused": 0, "decoded": 0, "slowest": 0.0, "slowest_case": ""}
for lmbda, codec in codecs.items():
    cases = [("model " + str(other), s) for other, strings in own.items() if other != lmbda for s in strings]
    cases += [("random", s) for s in randoms] + [("reported", reported)]
    cases += [("crafted", s) for s in crafted_strings(codec, backend)]
    for kind, string in cases:
        print("CALL", lmbda, kind, string.hex(), flush=True)
        started = time.perf_counter()
        try:
            codec.decompress([string])
            tally["decoded"] += 1
        except ldc.InputError:
            tally["refused"] += 1
        seconds = time.perf_counter() - started
        tally["calls"] += 1
        if seconds > tally["slowest"]:
            tally["slowest"], tally["slowest_case"] = seconds, f"lambda={lmbda} {kind} {string.hex()[:40]}"
print("RESULT", json.dumps(tally), flush=True)
"""


@pytest.fixture(scope="module")
def sweep_cache(tmp_path_factory):
    """One model cache for the sweep on both backends: the quick models of every lambda, trained once."""
    return tmp_path_factory.mktemp("sweep-cache")


@pytest.mark.integration
@pytest.mark.timeout(3600)
def test_no_string_makes_any_codec_hang(backend, sweep_cache, capsys):
    env = dict(os.environ, LDC_QUICK="1", LDC_CACHE_DIR=str(sweep_cache), LDC_ENTROPY=backend)
    child = subprocess.Popen([sys.executable, "-c", SWEEP_CHILD, backend], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout] + [lines.put(None)], daemon=True).start()
    last, result, calls = "(starting: training the quick models)", None, 0
    guard = 1200  # the first line comes after the six quick models are trained
    while True:
        try:
            line = lines.get(timeout=guard)
        except queue.Empty:
            child.kill()
            pytest.fail(f"no progress for {guard} s: {last}")
        if line is None:
            break
        guard = HANG_GUARD_SECONDS
        if line.startswith("CALL "):
            last, calls = line.strip(), calls + 1
            if calls % 5000 == 0:
                with capsys.disabled():
                    print(f"\nsweep ({backend}): {calls} calls", flush=True)
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        else:
            last = line.strip() or last
    assert child.wait() == 0 and result is not None, last
    print(f"\nsweep ({backend}): {result['calls']} calls, {result['refused']} refused, {result['decoded']} decoded; "
          f"slowest {result['slowest'] * 1000:.1f} ms ({result['slowest_case']})")
    assert result["calls"] >= 10_000
