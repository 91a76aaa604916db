"""Every public entry point, handed values of the wrong type or out of range, raises an ldc.LdcError in one line.

The second hostile probe found entry points that raised ValueError, TypeError,
FileNotFoundError or AttributeError from deep inside (a ragged list to
``Codec.compress``, ``None`` to ``Codec.decompress``, a dict to
``load_or_train``); this is that probe and its siblings, each call a case.
"""
import os

import numpy as np
import pytest

import ldc
from tests.conftest import make_small_codec


@pytest.fixture(scope="module")
def codec():
    return make_small_codec()


@pytest.fixture
def places(tmp_path):
    """A folder, a FIFO, a missing path and a symbolic link loop, by name."""
    fifo = tmp_path / "pipe.ldc"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.ldc"
    loop.symlink_to(loop)
    return {"folder": tmp_path, "fifo": fifo, "missing": tmp_path / "missing.ldc", "loop": loop,
            "in missing folder": tmp_path / "nowhere" / "x.ldc"}


def _codec_calls(codec, places, digits):
    return {
        "Codec(None, None)": lambda: ldc.Codec(None, None),
        "compress(None)": lambda: codec.compress(None),
        "compress(ragged list)": lambda: codec.compress([[1, 2], [3]]),
        "compress('text')": lambda: codec.compress("text"),
        "compress(complex)": lambda: codec.compress(np.zeros((2, 28, 28), np.complex64)),
        "decompress(None)": lambda: codec.decompress(None),
        "decompress(123)": lambda: codec.decompress(123),
        "decompress(b'bytes')": lambda: codec.decompress(b"bytes"),
        "decompress([None])": lambda: codec.decompress([None]),
        "decompress([b'x', 5])": lambda: codec.decompress([b"x", 5]),
        "decode_random(None)": lambda: codec.decode_random(None),
        "decode_latents([['a'] * 8])": lambda: codec.decode_latents([["a"] * 8]),
        "decode_latents(None)": lambda: codec.decode_latents(None),
        "decode_latents(wrong width)": lambda: codec.decode_latents(np.zeros((2, 3))),
        "information_bits('x')": lambda: codec.information_bits("x"),
        "from_container(None)": lambda: codec.from_container(None),
        "from_container(b'bytes')": lambda: codec.from_container(b"bytes"),
        "read(missing)": lambda: codec.read(places["missing"]),
        "read(folder)": lambda: codec.read(places["folder"]),
        "read(FIFO)": lambda: codec.read(places["fifo"]),
        "read(loop)": lambda: codec.read(places["loop"]),
        "read(None)": lambda: codec.read(None),
        "write(None, digits)": lambda: codec.write(None, digits),
        "write(in a missing folder)": lambda: codec.write(places["in missing folder"], digits),
        "write(FIFO)": lambda: codec.write(places["fifo"], digits),
        "write(loop)": lambda: codec.write(places["loop"], digits),
        "write(path, None)": lambda: codec.write(places["missing"], None),
        "measure([])": lambda: codec.measure([]),
    }


def _module_calls(codec, places):
    tables = codec.tables
    return {
        "load_mnist('validation')": lambda: ldc.load_mnist("validation"),
        "load_mnist(None)": lambda: ldc.load_mnist(None),
        "load_mnist(limit=0)": lambda: ldc.load_mnist("test", limit=0),
        "load_mnist(limit='5')": lambda: ldc.load_mnist("test", limit="5"),
        "load_mnist(limit=True)": lambda: ldc.load_mnist("test", limit=True),
        "load_mnist(data_dir=123)": lambda: ldc.load_mnist("test", data_dir=123),
        "as_digits(None)": lambda: ldc.as_digits(None),
        "as_digits(ragged)": lambda: ldc.as_digits([np.zeros((28, 28)), np.zeros((27, 28))]),
        "read_container(missing)": lambda: ldc.read_container(places["missing"]),
        "read_container(folder)": lambda: ldc.read_container(places["folder"]),
        "read_container(FIFO)": lambda: ldc.read_container(places["fifo"]),
        "read_container(None)": lambda: ldc.read_container(None),
        "read_container(123)": lambda: ldc.read_container(123),
        "write_container(path, None)": lambda: ldc.write_container(places["missing"], None),
        "unpack(None)": lambda: ldc.unpack(None),
        "unpack('text')": lambda: ldc.unpack("text"),
        "unpack([1, 2, 300])": lambda: ldc.unpack([1, 2, 300]),
        "unpack(123)": lambda: ldc.unpack(123),
        "pack(None)": lambda: ldc.pack(None),
        "pack(payload None)": lambda: ldc.pack(ldc.Container(bytes(16), 1, None)),
        "read_digits(None)": lambda: ldc.read_digits(None),
        "read_digits(missing)": lambda: ldc.read_digits(places["missing"].with_suffix(".npy")),
        "read_digits(FIFO)": lambda: ldc.read_digits(places["fifo"]),
        "load_or_train(dict)": lambda: ldc.load_or_train({"lmbda": 2000}),
        "load_or_train(None)": lambda: ldc.load_or_train(None),
        "find_model('abc')": lambda: ldc.find_model("abc"),
        "find_model(None)": lambda: ldc.find_model(None),
        "TrainConfig(lmbda='2000')": lambda: ldc.TrainConfig(lmbda="2000"),
        "TrainConfig(lmbda=10**5000)": lambda: ldc.TrainConfig(lmbda=10 ** 5000),
        "TrainConfig(latent_dims=10**6)": lambda: ldc.TrainConfig(lmbda=2000, latent_dims=10 ** 6),
        "TrainConfig(batch_size=10**6)": lambda: ldc.TrainConfig(lmbda=2000, batch_size=10 ** 6),
        "TrainConfig(epochs=1.5)": lambda: ldc.TrainConfig(lmbda=2000, epochs=1.5),
        "TrainConfig.from_dict(None)": lambda: ldc.TrainConfig.from_dict(None),
        "TrainConfig.from_dict(unknown)": lambda: ldc.TrainConfig.from_dict({"lmbda": 1, "bogus": 1}),
        "RangeCoder(tables).compress(None)": lambda: ldc.RangeCoder(tables).compress(None),
        "RangeCoder(tables).decompress(None)": lambda: ldc.RangeCoder(tables).decompress(None, (tables.channels,)),
        "RangeCoder(tables).decompress(shape)": lambda: ldc.RangeCoder(tables).decompress([b""], (3,)),
        "RangeCoder(None)": lambda: ldc.RangeCoder(None),
        "DCTCodec(step='x')": lambda: ldc.DCTCodec("x"),
        "DCTCodec(block=5)": lambda: ldc.DCTCodec(10, block=5),
        "DCTCodec().compress before fit": lambda: ldc.DCTCodec(10).compress(np.zeros((1, 28, 28), np.uint8)),
        "encode_pillow(fmt='GIF')": lambda: ldc.encode_pillow(np.zeros((1, 28, 28), np.uint8), "GIF"),
        "psnr('a', 'b')": lambda: ldc.psnr("a", "b"),
        "mae(None, None)": lambda: ldc.mae(None, None),
        "psnr(shapes differ)": lambda: ldc.psnr(np.zeros((2, 28, 28), np.uint8), np.zeros((1, 28, 28), np.uint8)),
        "bits_per_digit([])": lambda: ldc.bits_per_digit([]),
        "bits_per_pixel('x')": lambda: ldc.bits_per_pixel("x"),
        "string_bits(None)": lambda: ldc.string_bits(None),
        "prior_tables(None)": lambda: ldc.prior_tables(None),
        "pmf_tables(None, None)": lambda: ldc.pmf_tables(None, None),
        "CodingTables(None, None, None)": lambda: ldc.CodingTables(None, None, None),
        "make_transforms('rnn')": lambda: ldc.make_transforms("rnn"),
        "CompressionModel(latent_dims=0)": lambda: ldc.CompressionModel(latent_dims=0),
        "digit_grid(None)": lambda: ldc.digit_grid(None),
        "add_noise(None, 0.5)": lambda: ldc.add_noise(None, 0.5),
        "add_noise(sigma='x')": lambda: ldc.add_noise(np.zeros((1, 28, 28), np.uint8), "x"),
        "TrainConfig(noise=-1)": lambda: ldc.TrainConfig(lmbda=2000, noise=-1),
        "ClassifierConfig(epochs=1.5)": lambda: ldc.ClassifierConfig(epochs=1.5),
        "ClassifierConfig(learning_rate='x')": lambda: ldc.ClassifierConfig(learning_rate="x"),
        "ClassifierConfig(batch_size=10**6)": lambda: ldc.ClassifierConfig(batch_size=10 ** 6),
        "ClassifierConfig.from_dict(None)": lambda: ldc.ClassifierConfig.from_dict(None),
    }


def test_every_public_entry_point_refuses_wrong_types_with_an_ldc_error(codec, places, digits):
    calls = {**_codec_calls(codec, places, digits[:2]), **_module_calls(codec, places)}
    problems = []
    for name, call in calls.items():
        try:
            call()
        except ldc.LdcError as err:
            if "\n" in str(err) or not str(err):
                problems.append(f"{name}: a message of {str(err).count(chr(10)) + 1} lines: {str(err)!r}")
        except Exception as err:  # noqa: BLE001  what this test hunts for
            problems.append(f"{name}: {type(err).__name__}: {err}")
        else:
            problems.append(f"{name}: accepted")
    print(f"\n{len(calls)} calls with wrong types or values; {len(calls) - len(problems)} refused with an ldc.LdcError")
    assert problems == [], "\n".join(problems)
    assert places["fifo"].exists() and not places["fifo"].is_file()  # the FIFO was refused, not replaced


def test_errors_stay_value_and_type_errors_for_callers_that_caught_those(codec):
    with pytest.raises(ValueError):
        ldc.load_mnist("validation")
    with pytest.raises(TypeError):
        codec.decompress(None)
    with pytest.raises(FileNotFoundError):  # a FileError is the OSError its errno names
        ldc.read_container("/nonexistent/folder/x.ldc")
