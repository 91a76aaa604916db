import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ldc
from ldc.cli import main, read_digits

REQUIRED_KEYS = {"lmbda", "latent_dims", "epochs", "train_seconds", "steps_per_second", "cache",
                 "test_rate_bits", "test_real_bits", "test_mae", "test_psnr_db"}


def run_main(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, err, fragment):
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("ldc: error: "), err
    assert "Traceback" not in err
    assert fragment in err, err


@pytest.fixture
def inputs(tmp_path):
    files = {
        "wrong_shape.npy": np.zeros((3, 28, 27), np.uint8),
        "wrong_dtype.npy": np.zeros((3, 28, 28), np.complex64),
        "out_of_range.npy": np.full((3, 28, 28), 256, np.int32),
        "negative.npy": np.full((3, 28, 28), -1, np.int16),
        "nan.npy": np.full((3, 28, 28), np.nan),
        "empty.npy": np.zeros((0, 28, 28), np.uint8),
    }
    for name, array in files.items():
        np.save(tmp_path / name, array)
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "not_numpy.npy").write_bytes(b"hello")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "big.png")
    (tmp_path / "fake.png").write_bytes(b"\x89PNG but not really")
    (tmp_path / "digits.txt").write_text("1 2 3")
    return tmp_path


@pytest.mark.parametrize("name, fragment", [
    ("missing.npy", "No such file"),
    ("wrong_shape.npy", "expected digits shaped (N, 28, 28)"),
    ("wrong_dtype.npy", "dtype complex64"),
    ("out_of_range.npy", "0..255, found 256..256"),
    ("negative.npy", "0..255, found -1..-1"),
    ("nan.npy", "not finite"),
    ("empty.npy", "no digits"),
    ("pickled.npy", "holds Python objects"),
    ("not_numpy.npy", "not a readable .npy"),
    ("big.png", "32x32 pixels, expected 28x28"),
    ("fake.png", "not a readable PNG"),
    ("digits.txt", "'.txt' suffix"),
])
def test_compress_bad_input_is_one_line(capsys, inputs, name, fragment):
    status, out, err = run_main(capsys, "compress", "--lmbda", "300", str(inputs / name), str(inputs / "out.ldc"))
    assert_one_line_error(status, err, fragment)
    assert not (inputs / "out.ldc").exists()


def test_decompress_bad_containers_are_one_line(capsys, tmp_path, real_container):
    damaged = tmp_path / "damaged.ldc"
    damaged.write_bytes(real_container[:-3])
    status, _, err = run_main(capsys, "decompress", str(damaged), str(tmp_path / "out.npy"))
    assert_one_line_error(status, err, "truncated")
    foreign = tmp_path / "image.png"
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(foreign)
    status, _, err = run_main(capsys, "decompress", str(foreign), str(tmp_path / "out.npy"))
    assert_one_line_error(status, err, "PNG image, not an ldc container")
    assert not (tmp_path / "out.npy").exists()


def test_decompress_names_the_missing_model_and_how_to_train_it(capsys, tmp_path, real_container):
    path = tmp_path / "digits.ldc"
    path.write_bytes(real_container)
    status, _, err = run_main(capsys, "decompress", str(path), str(tmp_path / "out.npy"))
    assert_one_line_error(status, err, "no model with fingerprint")
    assert "`python -m ldc train --lmbda 123 --epochs 15 --latent-dims 8`" in err


@pytest.mark.parametrize("argv, fragment", [
    (["train"], "required: --lmbda"),
    (["train", "--lmbda", "-5"], "not a number in (0, 100000]"),
    (["train", "--lmbda", "2000", "--epochs", "0"], "0 is not positive"),
    (["fly"], "invalid choice"),
])
def test_usage_errors_are_one_line(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and fragment in err, err


def test_read_digits_accepts_npy_shapes_and_png(tmp_path):
    digits = (np.arange(2 * 784).reshape(2, 28, 28) % 256).astype(np.uint8)
    np.save(tmp_path / "a.npy", digits[..., None])
    np.testing.assert_array_equal(read_digits(tmp_path / "a.npy"), digits)
    Image.fromarray(digits[0]).save(tmp_path / "one.png")
    np.testing.assert_array_equal(read_digits(tmp_path / "one.png"), digits[:1])


def _cli(*argv, env):
    return subprocess.run([sys.executable, "-m", "ldc", *argv], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.integration
def test_train_compress_decompress_through_the_command_line(tmp_path, isolated_cache):
    env = dict(os.environ, LDC_CACHE_DIR=str(isolated_cache))
    first = _cli("train", "--lmbda", "300", "--quick", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert REQUIRED_KEYS <= set(report) and report["cache"] == "miss" and report["mode"] == "quick"
    assert report["test_real_bits"] >= report["test_rate_bits"] - 1 and 0 < report["test_mae"] < 0.5
    assert "epoch  1/2" in first.stderr  # progress goes to stderr

    again = json.loads(_cli("train", "--lmbda", "300", "--quick", env=env).stdout.strip().splitlines()[-1])
    assert again["cache"] == "hit" and again["fingerprint"] == report["fingerprint"]
    assert again["test_rate_bits"] == report["test_rate_bits"]

    digits = ldc.load_mnist("test", limit=50).images
    np.save(tmp_path / "digits.npy", digits)
    packed = _cli("compress", "--lmbda", "300", "--quick", str(tmp_path / "digits.npy"), str(tmp_path / "d.ldc"),
                  env=env)
    assert packed.returncode == 0, packed.stderr
    unpacked = _cli("decompress", str(tmp_path / "d.ldc"), str(tmp_path / "back.npy"), env=env)
    assert unpacked.returncode == 0, unpacked.stderr
    back = np.load(tmp_path / "back.npy")
    assert back.shape == (50, 28, 28) and back.dtype == np.uint8

    trained = ldc.load_or_train(ldc.TrainConfig(lmbda=300, quick=True), verbose=False)
    assert trained.cache == "hit" and trained.fingerprint.hex() == report["fingerprint"]
    np.testing.assert_array_equal(back, trained.codec().read(tmp_path / "d.ldc"))
    assert ldc.mae(digits, back) < 0.5

    bad = _cli("decompress", str(tmp_path / "digits.npy"), str(tmp_path / "x.npy"), env=env)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert "NumPy .npy array, not an ldc container" in bad.stderr
