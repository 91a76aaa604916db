"""Hostile input, one test per hole a probe found: bad input is refused in one line and costs nothing.

Each test replays the probe's case (see the hostile-input issue): data loss,
silent wrong output, resource exhaustion, tracebacks, untrusted text, cache
entries that never healed, and the smaller ones.
"""
import io
import json
import os
import re
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ldc
import ldc.container
import ldc.training
from ldc import cache
from ldc.arguments import build_parser, config_from_args
from ldc.cli import main
from ldc.container import MAGIC, MAX_COUNT
from ldc.digit_files import read_digits
from ldc.files import atomic_write_bytes
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


def raw_container(count=1, description=b"{}", payload=b"", version=3, fingerprint=bytes(16)):
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

def test_a_container_announcing_more_digits_than_its_bytes_hold_is_refused_before_decoding(file_codec, monkeypatch):
    description = json.dumps(file_codec.description).encode()
    data = raw_container(count=MAX_COUNT, description=description, payload=bytes(4 * 10),
                         fingerprint=file_codec.fingerprint)
    decoded = []
    monkeypatch.setattr(file_codec._stream, "decode", lambda *args: decoded.append(args))
    with pytest.raises(ldc.ContainerError, match="holds at most"):
        file_codec.from_container(ldc.unpack(data))
    assert decoded == []  # the work bound: nothing was decoded
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
    monkeypatch.setattr(ldc.training, "lagrangian",
                        lambda rate, distortion, lmbda: real(rate, distortion, lmbda) * np.nan)
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


# === round 2: a second probe, about 180 more cases; one test per hole it found ===============================
# (the hang in tensorflow-compression's decoder has its own file, tests/test_decode_bounds.py)

SMALL = ["--lmbda", "100", "--latent-dims", "6", "--epochs", "1", "--steps-per-epoch", "3", "--quick"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(depth=8, colour=0, rows=28, extra=b""):
    """A 28x28 PNG written chunk by chunk (Pillow cannot write 16-bit colour), holding ``rows`` of its 28 rows."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\x00" + bytes(range(28 * channels * depth // 8))
    header = struct.pack(">IIBBBBB", 28, 28, depth, colour, 0, 0, 0)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", header) + extra
            + png_chunk(b"IDAT", zlib.compress(row * rows)) + png_chunk(b"IEND", b""))


@pytest.fixture
def small_cached_codec(synthetic_mnist):
    """The codec `python -m ldc compress ... SMALL` uses, trained on synthetic digits and in the (test's) cache."""
    config = config_from_args(build_parser().parse_args(["train", *SMALL]))
    return ldc.load_or_train(config, verbose=False).codec()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("where", ["compress input", "compress output", "decompress input", "decompress output"])
def test_a_symbolic_link_loop_gets_one_line(capsys, tmp_path, real_container, where):
    loop = tmp_path / ("loop.npy" if where.endswith("input") == where.startswith("compress") else "loop.ldc")
    loop.symlink_to(loop)
    np.save(tmp_path / "d.npy", np.zeros((1, 28, 28), np.uint8))
    (tmp_path / "d.ldc").write_bytes(real_container)
    source, target = {"compress input": (loop, tmp_path / "o.ldc"), "compress output": (tmp_path / "d.npy", loop),
                      "decompress input": (loop, tmp_path / "o.npy"),
                      "decompress output": (tmp_path / "d.ldc", loop)}[where]
    command = where.split()[0]
    status, _, err = run_main(capsys, command, *(["--lmbda", "2000", "--quick"] if command == "compress" else []),
                              source, target)
    one_line(status, err, f"{loop}: a symbolic link loop")


@pytest.mark.timeout(60)  # a hang guard: opening a FIFO for reading blocks until a writer comes
@pytest.mark.parametrize("name", ["in.npy", "in.png", "in.ldc"])
def test_a_fifo_is_refused_before_anything_is_read(capsys, tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    command = ["decompress"] if name.endswith(".ldc") else ["compress", "--lmbda", "2000", "--quick"]
    status, _, err = run_main(capsys, *command, fifo, tmp_path / "out.bin")
    one_line(status, err, f"{fifo}: a FIFO (named pipe), not a regular file")


@pytest.mark.timeout(60)
def test_a_fifo_in_place_of_a_cache_entry_is_rebuilt(synthetic_mnist):
    config = ldc.TrainConfig(**TINY)
    path = cache.entry_path(config.cache_key())
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    messages = []
    trained = ldc.load_or_train(config, verbose=False, log=messages.append)
    assert trained.cache == "miss" and path.is_file() and "FIFO" in messages[0], messages


@pytest.mark.timeout(60)
def test_a_stray_fifo_among_the_cached_models_is_skipped(capsys, tmp_path, real_container):
    cache.models_dir().mkdir(parents=True)
    os.mkfifo(cache.models_dir() / "0000.npz")
    (tmp_path / "d.ldc").write_bytes(real_container)
    status, _, err = run_main(capsys, "decompress", tmp_path / "d.ldc", tmp_path / "out.npy")
    one_line(status, err, "no model with fingerprint")


def test_a_link_to_a_device_is_never_read(capsys, tmp_path):
    link = tmp_path / "zeros.ldc"
    link.symlink_to("/dev/zero")
    status, _, err = run_main(capsys, "decompress", link, tmp_path / "out.npy")
    one_line(status, err, f"{link}: a character device, not a regular file")


def test_a_2_gb_file_is_refused_after_reading_its_header_only(capsys, tmp_path, monkeypatch):
    path = tmp_path / "zeros.ldc"
    with open(path, "wb") as f:
        f.truncate(2 * 1024 ** 3)  # sparse: 2 GB long, no disk used
    read = []
    real = ldc.container.open_input

    class Counting:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def read(self, n=-1):
            data = self.stream.read(n)
            read.append(len(data))
            return data

        def fileno(self):
            return self.stream.fileno()

    monkeypatch.setattr(ldc.container, "open_input", lambda *args: Counting(real(*args)))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, f"{path}: not an ldc container")
    assert sum(read) <= ldc.container._HEAD_BYTES, read  # the work bound: the header (4 KB), not the file


@pytest.mark.parametrize("field", ["lmbda", "latent_dims", "epochs"])
def test_a_4000_digit_integer_in_a_description_gets_one_line(capsys, tmp_path, field):
    description = b'{"' + field.encode() + b'": ' + b"9" * 4000 + b"}"
    path = tmp_path / "huge.ldc"
    path.write_bytes(raw_container(description=description))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, f"{path}: corrupted")


def _edited(container, codec, edit):
    """A container with one field edited, packed again (so its CRC is right)."""
    payload, count, fingerprint = container.payload, container.count, container.fingerprint
    if edit == "count - 1":
        count -= 1
    elif edit == "count + 1":
        count += 1
    elif edit == "count + 4":
        count += 4
    elif edit == "payload cut by 4 bytes":
        payload = payload[:-4]
    elif edit == "one payload bit flipped":
        payload = payload[:5] + bytes([payload[5] ^ 0x10]) + payload[6:]
    elif edit == "random payload":
        payload = np.random.default_rng(3).bytes(len(payload))
    elif edit == "empty payload":
        payload = b""
    return ldc.pack(ldc.Container(fingerprint, count, payload, container.description))


EDITS = ["count - 1", "count + 1", "count + 4", "payload cut by 4 bytes", "one payload bit flipped", "random payload",
         "empty payload"]


@pytest.mark.parametrize("edit", EDITS)
def test_a_container_edited_and_checksummed_again_is_refused_not_decoded(file_codec, digits, edit):
    container = file_codec.to_container(digits[:16])
    with pytest.raises(ldc.ContainerError, match="corrupted"):
        file_codec.from_container(ldc.unpack(_edited(container, file_codec, edit)))


def test_a_container_given_another_models_fingerprint_is_refused_not_decoded(file_codec, digits):
    other = ldc.CompressionModel(latent_dims=8)
    other.prior.log_scales.assign(np.linspace(1.5, -1.0, 8).astype(np.float32))
    other_codec = ldc.Codec(other, ldc.prior_tables(other.prior))
    container = file_codec.to_container(digits[:16])
    relabelled = ldc.Container(other_codec.fingerprint, 16, container.payload, container.description)
    with pytest.raises(ldc.ContainerError, match="corrupted"):
        other_codec.from_container(ldc.unpack(ldc.pack(relabelled)))


@pytest.mark.parametrize("edit", ["count + 4", "empty payload"])
def test_an_edited_container_is_refused_in_one_line_naming_the_file(capsys, tmp_path, small_cached_codec, edit):
    digits = synthetic_digits_for_cli()
    path = tmp_path / "edited.ldc"
    path.write_bytes(_edited(small_cached_codec.to_container(digits), small_cached_codec, edit))
    status, _, err = run_main(capsys, "decompress", path, tmp_path / "out.npy")
    one_line(status, err, f"{path}: corrupted")
    assert not (tmp_path / "out.npy").exists()


def synthetic_digits_for_cli():
    from tests.conftest import synthetic_digits

    return synthetic_digits(16)


@pytest.mark.parametrize("depth, colour, why", [(16, 2, "16-bit RGB"), (16, 4, "16-bit grey+alpha"),
                                                (16, 6, "16-bit RGBA"), (16, 0, "16-bit grey")])
def test_a_16_bit_png_of_any_colour_type_is_refused(tmp_path, depth, colour, why):
    path = tmp_path / "deep.png"
    path.write_bytes(png_bytes(depth, colour))
    with pytest.raises(ldc.InputError, match=f"a {re.escape(why)} image .*16-bit images are refused"):
        read_digits(path)


def test_a_png_missing_rows_is_refused_not_filled_with_zeros(tmp_path):
    path = tmp_path / "half.png"
    path.write_bytes(png_bytes(rows=14))
    with pytest.raises(ldc.InputError, match="holds 406 of the 812 bytes of its 28 rows .* incomplete"):
        read_digits(path)
    path.write_bytes(png_bytes())
    assert read_digits(path).shape == (1, 28, 28)  # the same file with every row is read


def test_an_animated_png_is_refused_not_cut_to_its_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((28, 28), v, np.uint8)) for v in (0, 255)]
    path = tmp_path / "anim.png"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with pytest.raises(ldc.InputError, match="an animated PNG \\(2 frames\\)"):
        read_digits(path)


def test_a_png_with_transparent_pixels_is_refused(tmp_path):
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., :3] = 200  # an invisible colour
    Image.fromarray(rgba).save(tmp_path / "clear.png")
    with pytest.raises(ldc.InputError, match="784 of its pixels are transparent"):
        read_digits(tmp_path / "clear.png")
    rgba[..., 3] = 255
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    assert read_digits(tmp_path / "opaque.png").min() == 200  # opaque alpha: the pixels, as they look


def test_a_250_character_output_name_is_written(tmp_path, small_cached_codec):
    name, folder = "d" * 246 + ".ldc", tmp_path / "out"
    folder.mkdir()
    size = small_cached_codec.write(folder / name, synthetic_digits_for_cli())
    assert (folder / name).stat().st_size == size and os.listdir(folder) == [name]  # no temporary file left


def test_a_path_too_long_is_named_in_the_error_not_a_temporary_file(capsys, tmp_path, small_cached_codec):
    np.save(tmp_path / "d.npy", synthetic_digits_for_cli())
    long_path = tmp_path / "/".join(["x" * 200] * 21) / "out.ldc"
    status, _, err = run_main(capsys, "compress", *SMALL, tmp_path / "d.npy", long_path)
    one_line(status, err, "File name too long")
    assert str(long_path) in err and ".tmp" not in err


def test_file_names_with_newlines_and_escape_codes_are_shown_escaped(capsys, tmp_path):
    path = tmp_path / "evil\nname\x1b[31m.npy"
    path.write_bytes(b"junk")
    status, _, err = run_main(capsys, "compress", "--lmbda", "2000", "--quick", path, tmp_path / "out.ldc")
    one_line(status, err, "evil\\nname\\x1b[31m.npy")
    assert "\x1b" not in err


@pytest.mark.parametrize("switch", ["bogus", "tfc-on-the-modern-stack"])
def test_a_bad_entropy_switch_is_named_and_never_costs_a_cached_model(capsys, monkeypatch, tmp_path,
                                                                      small_cached_codec, switch):
    from ldc.backends import tfc_installed

    if switch == "tfc-on-the-modern-stack" and tfc_installed():
        monkeypatch.setattr("ldc.backends.tfc_installed", lambda: False)  # as the modern stack answers
    value = "bogus" if switch == "bogus" else "tfc"
    entries = sorted(cache.models_dir().glob("*.npz"))
    before = [p.read_bytes() for p in entries]
    np.save(tmp_path / "d.npy", synthetic_digits_for_cli())
    small_cached_codec.write(tmp_path / "d.ldc", synthetic_digits_for_cli())
    monkeypatch.setenv("LDC_ENTROPY", value)
    for argv in (["compress", *SMALL, tmp_path / "d.npy", tmp_path / "o.ldc"],
                 ["train", *SMALL], ["decompress", tmp_path / "d.ldc", tmp_path / "o.npy"]):
        status, _, err = run_main(capsys, *argv)
        one_line(status, err, f"LDC_ENTROPY={value!r}" if value == "bogus" else "LDC_ENTROPY=tfc, but")
    assert [p.read_bytes() for p in sorted(cache.models_dir().glob("*.npz"))] == before  # every entry kept


@pytest.mark.parametrize("size", ["1000000", "1000000000"])
def test_a_model_too_large_is_refused_before_it_is_built(capsys, monkeypatch, size):
    built = []
    monkeypatch.setattr(ldc.training, "CompressionModel", lambda *a, **k: built.append(a) or pytest.fail("built"))
    status, _, err = run_main(capsys, "train", "--lmbda", "2000", "--latent-dims", size)
    one_line(status, err, f"latent_dims={int(size):,}: at most 784")
    assert built == []


@pytest.mark.parametrize("kind", ["FIFO", "link to /dev/null", "device node"])
def test_an_output_that_is_not_a_regular_file_is_never_replaced(capsys, tmp_path, real_container, kind):
    (tmp_path / "d.ldc").write_bytes(real_container)
    output = tmp_path / "out.npy"
    if kind == "FIFO":
        os.mkfifo(output)
    elif kind == "link to /dev/null":
        output.symlink_to("/dev/null")
    else:
        if os.geteuid() != 0:
            output.symlink_to("/dev/full")  # only root makes device nodes; a link to one is checked the same way
        else:
            os.mknod(output, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
    mode = os.lstat(output).st_mode
    status, _, err = run_main(capsys, "decompress", tmp_path / "d.ldc", output)
    one_line(status, err, "not a regular file: ldc replaces regular files only")
    assert os.lstat(output).st_mode == mode  # still what it was
