"""Hostile input, one test per hole a probe found: bad input is refused in one line and costs nothing.

Each test replays the probe's case (see the hostile-input issue): data loss,
silent wrong output, resource exhaustion, tracebacks, untrusted text, cache
entries that never healed, and the smaller ones.
"""
import io
import json
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ldc
import ldc.training
from ldc import cache
from ldc.cli import main, read_digits
from ldc.container import MAGIC, MAX_COUNT, atomic_write_bytes
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]


def run_main(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(status, err, fragment, code=1):
    assert status == code, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err


def raw_container(count=1, description=b"{}", payload=b"", version=2, fingerprint=bytes(16)):
    """A container with a valid layout and checksum around any fields (the writer's checks bypassed)."""
    body = (struct.pack("<8sBB16sIH", MAGIC, version, 0, fingerprint, count, len(description)) + description
            + struct.pack("<I", len(payload)) + payload)
    return body + struct.pack("<I", zlib.crc32(body))


# --- data loss -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["same path", "hard link", "symlink"])
def test_compress_never_writes_over_its_input(capsys, tmp_path, link):
    source = tmp_path / "d.npy"
    np.save(source, np.zeros((2, 28, 28), np.uint8))
    before = source.read_bytes()
    target = {"same path": source, "hard link": tmp_path / "h.npy", "symlink": tmp_path / "s.npy"}[link]
    if link == "hard link":
        os.link(source, target)
    elif link == "symlink":
        target.symlink_to(source)
    status, _, err = run_main(capsys, "compress", "--lmbda", "2000", "--quick", source, target)
    one_line(status, err, "writing it would destroy the input")
    assert source.read_bytes() == before


def test_decompress_never_writes_over_its_input(capsys, tmp_path, real_container):
    path = tmp_path / "x.ldc"
    path.write_bytes(real_container)
    status, _, err = run_main(capsys, "decompress", path, path)
    one_line(status, err, "is the input file")
    assert path.read_bytes() == real_container


# --- silent wrong output -------------------------------------------------------------------------------------

def test_decompress_refuses_truncated_foreign_and_random_strings(small_codec, digits):
    compressed = small_codec.compress(digits)
    truth = small_codec.decompress(compressed.strings)

    def outcome(string, expected=None):
        try:
            decoded = small_codec.decompress([string])
        except ldc.InputError:
            return "refused"
        return "correct" if expected is not None and np.array_equal(decoded[0], expected) else "wrong"

    truncated = [outcome(s[:k], truth[i]) for i, s in enumerate(compressed.strings) for k in range(len(s))]
    rng = np.random.default_rng(0)
    random = [outcome(rng.bytes(int(rng.integers(1, 16)))) for _ in range(300)]
    other = ldc.CompressionModel(latent_dims=8)
    other.prior.log_scales.assign(np.linspace(1.5, -1.0, 8).astype(np.float32))
    foreign_codec = ldc.Codec(other, ldc.prior_tables(other.prior))
    foreign = [outcome(s) for s in foreign_codec.compress(digits).strings]
    for name, outcomes in (("truncated", truncated), ("random", random), ("foreign", foreign)):
        wrong = outcomes.count("wrong") / len(outcomes)
        print(f"\n{name}: {len(outcomes)} strings, {outcomes.count('refused')} refused, "
              f"{outcomes.count('correct')} decoded correctly anyway, {outcomes.count('wrong')} wrong")
        assert wrong < 0.02, name  # an 8-bit check lets 1 in 256 through


def test_a_16_bit_png_is_refused_not_squeezed(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray((np.arange(28 * 28).reshape(28, 28) * 80).astype(np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    with pytest.raises(ldc.InputError, match="more than 8 bits per pixel"):
        read_digits(path)


# --- resource exhaustion -------------------------------------------------------------------------------------

def test_a_container_announcing_more_digits_than_its_bytes_hold_is_refused_at_once(file_codec):
    description = json.dumps(file_codec.description).encode()
    data = raw_container(count=MAX_COUNT, description=description, payload=bytes(4 * 10),
                         fingerprint=file_codec.fingerprint)
    started = time.perf_counter()
    with pytest.raises(ldc.ContainerError, match="holds at most"):
        file_codec.from_container(ldc.unpack(data))
    assert time.perf_counter() - started < 1.0
    with pytest.raises(ldc.ContainerError, match="at most 262,144"):
        ldc.unpack(raw_container(count=1_000_000))


def test_an_npy_header_claiming_billions_of_digits_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False,
                                                 "shape": (4_000_000_000, 28, 28)})
        f.write(bytes(100))
    with pytest.raises(ldc.InputError, match="ldc compresses at most 262,144"):
        read_digits(path)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (1000, 28, 28)})
        f.write(bytes(100))
    with pytest.raises(ldc.InputError, match="header announces 784,000 bytes"):
        read_digits(path)


def test_a_30000_pixel_square_png_is_refused_in_one_line(tmp_path):
    # A real 28x28 PNG whose header claims 30000x30000 (checksum fixed): a decompression bomb.
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", 30000, 30000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ldc.InputError, match="bomb|30000x30000"):
        read_digits(path)


# --- tracebacks where a line was promised --------------------------------------------------------------------

def test_a_description_nested_30000_deep_is_refused():
    nested = b"[" * 30000 + b"]" * 30000
    with pytest.raises(ldc.ContainerError, match="corrupted"):
        ldc.unpack(raw_container(description=b'{"lmbda": ' + nested[:4000] + b"}"))
    with pytest.raises(ldc.ContainerError, match="corrupted"):
        ldc.unpack(raw_container(description=b'{"a":' * 800 + b"1" + b"}" * 800))


@pytest.mark.parametrize("lmbda", ["2000", None, [2000], {"a": 1}, True, 1e300])
def test_a_description_with_lmbda_of_any_type_gives_one_line(capsys, tmp_path, lmbda):
    path = tmp_path / "odd.ldc"
    path.write_bytes(raw_container(description=json.dumps({"lmbda": lmbda, "latent_dims": 50}).encode()))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    assert status == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "python -m ldc train" not in err  # no configuration this ldc can train: no command


@pytest.mark.parametrize("seed", ["-1", str(2 ** 32), "1e3"])
def test_train_refuses_a_seed_out_of_range_in_one_line(capsys, seed):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--lmbda", "2000", "--seed", seed])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "--seed" in err
    with pytest.raises(ValueError, match="0..4294967295"):
        ldc.TrainConfig(lmbda=2000, seed=2 ** 32)


def test_train_refuses_lmbda_1e30_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--lmbda", "1e30"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "not a number in (0, 100000]" in err and err.count("\n") == 1


def test_training_that_diverges_stops_with_one_line(synthetic_mnist, monkeypatch):
    real = ldc.training.lagrangian
    monkeypatch.setattr(ldc.training, "lagrangian", lambda rate, distortion, lmbda: real(rate, distortion, lmbda) * np.nan)
    with pytest.raises(ldc.TrainingError, match="diverged in epoch 1: the loss became NaN"):
        ldc.load_or_train(ldc.TrainConfig(**TINY), verbose=False)


@pytest.mark.integration
def test_a_damaged_mnist_copy_gives_one_line(tmp_path):
    if "TFDS_DATA_DIR" not in os.environ:
        pytest.fail("this test damages a copy of the prepared MNIST: set TFDS_DATA_DIR to it (make test does)")
    source = Path(os.environ["TFDS_DATA_DIR"]) / "mnist" / "3.0.1"
    copy = tmp_path / "tfds" / "mnist" / "3.0.1"
    copy.mkdir(parents=True)
    for item in source.iterdir():
        data = bytearray(item.read_bytes())
        if item.name.startswith("mnist-test.tfrecord"):
            data[len(data) // 2:len(data) // 2 + 64] = bytes(64)  # damaged records
        (copy / item.name).write_bytes(bytes(data))
    with pytest.raises(ldc.DataUnavailableError, match="cannot be read .* damaged or incomplete"):
        ldc.load_mnist("test", data_dir=tmp_path / "tfds")


# --- untrusted text ------------------------------------------------------------------------------------------

def test_a_hostile_description_is_shown_escaped_and_never_pasted_into_a_command(capsys, tmp_path):
    hostile = {"lmbda": "2000; rm -rf ~", "latent_dims": "\x1b[31mred\ntext", "epochs": 15}
    path = tmp_path / "hostile.ldc"
    path.write_bytes(raw_container(description=json.dumps(hostile).encode()))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, "no model with fingerprint")
    assert "\x1b" not in err and "rm -rf ~'" in err and "`" not in err  # quoted, escaped, no command
    assert "'\\x1b[31mred\\ntext'" in err


def test_a_trainable_description_gets_a_command_written_from_the_validated_configuration(capsys, tmp_path):
    config = ldc.TrainConfig(lmbda=1234.5, latent_dims=20, architecture="mlp", epochs=7, seed=3, quick=False)
    path = tmp_path / "mlp.ldc"
    path.write_bytes(raw_container(description=json.dumps(config.to_dict()).encode()))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, "python -m ldc train --lmbda 1234.5 --epochs 7 --latent-dims 20 --architecture mlp --seed 3`")


# --- cache entries that never healed -------------------------------------------------------------------------

def test_an_entry_with_a_damaged_central_directory_is_rebuilt(synthetic_mnist):
    config = ldc.TrainConfig(**TINY)
    path = ldc.load_or_train(config, verbose=False).path
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")  # end of central directory: its offset field at +16
    data[end + 16 + 3] ^= 0x40
    path.write_bytes(bytes(data))
    messages = []
    rebuilt = ldc.load_or_train(config, verbose=False, log=messages.append)
    assert rebuilt.cache == "miss" and "removed it, training again" in messages[0], messages
    assert ldc.load_or_train(config, verbose=False).cache == "hit"


def test_an_entry_replaced_by_a_folder_is_rebuilt(synthetic_mnist):
    config = ldc.TrainConfig(**TINY)
    path = cache.entry_path(config.cache_key())
    (path / "inside").mkdir(parents=True)
    assert ldc.load_or_train(config, verbose=False).cache == "miss"
    assert path.is_file() and ldc.load_or_train(config, verbose=False).cache == "hit"


def test_a_read_only_cache_holding_a_corrupt_entry_trains_without_the_cache(synthetic_mnist, monkeypatch):
    config = ldc.TrainConfig(**TINY)
    path = cache.entry_path(config.cache_key())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"damaged")
    monkeypatch.setattr(cache, "remove_entry", lambda p: False)  # as a read-only folder answers (root ignores modes)
    messages = []
    trained = ldc.load_or_train(config, verbose=False, log=messages.append)
    assert trained.cache == "off" and "training without the cache" in messages[0]
    assert path.read_bytes() == b"damaged"


# --- the smaller ones ----------------------------------------------------------------------------------------

def test_a_write_error_names_the_users_path_not_the_temporary_file(tmp_path):
    target = tmp_path / "missing-folder" / "digits.ldc"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_bytes(target, b"data")
    assert info.value.filename == str(target)


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "digits.ldc"
    orphan = tmp_path / ".digits.ldc.999999999.abcd1234.tmp"  # no such process
    alive = tmp_path / f".digits.ldc.{os.getpid()}.abcd1234.tmp"  # a writer still at work
    orphan.write_bytes(b"half")
    alive.write_bytes(b"half")
    atomic_write_bytes(target, b"data")
    assert target.read_bytes() == b"data" and not orphan.exists() and alive.exists()


def test_errors_about_a_file_name_the_file(capsys, tmp_path, real_container):
    path = tmp_path / "digits.ldc"
    path.write_bytes(real_container[:-3])
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, f"{path}: truncated")
    path.write_bytes(real_container)
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, f"{path}: no model with fingerprint")
