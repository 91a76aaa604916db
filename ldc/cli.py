"""Command line: ``python -m ldc train | compress | decompress`` (a model or a file without a notebook).

    python -m ldc train --lmbda 2000 [--latent-dims 50] [--epochs 15] [--steps-per-epoch S] [--quick]
    python -m ldc compress --lmbda 2000 [--quick] digits.npy digits.ldc
    python -m ldc decompress digits.ldc digits.npy

``train`` prints progress on stderr and, as the last line of stdout, one JSON
object with the model's measured rate and distortion on the test digits.
Bad input exits with status 1 and one line naming the problem.
"""
import argparse
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from ldc.errors import InputError, LdcError, printable

EXIT_ERROR = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the problem, and where the help is)."""

    def error(self, message):
        # argparse quotes the offending argument raw: a newline or an escape code in it would break the line.
        message = printable(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _lmbda(text):
    from ldc.training import MAX_LMBDA

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (np.isfinite(value) and 0 < value <= MAX_LMBDA):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number in (0, {MAX_LMBDA:g}]")
    return value


def _seed(text):
    from ldc.training import SEEDS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < SEEDS:
        raise argparse.ArgumentTypeError(f"{value} is not in 0..{SEEDS - 1}")
    return value


def _add_model_options(parser):
    parser.add_argument("--lmbda", type=_lmbda, required=True,
                        help="weight of distortion in the loss rate + lmbda * MAE (e.g. 300, 500, 1000, 2000)")
    parser.add_argument("--latent-dims", type=_positive_int, default=50, help="latent size (default 50)")
    parser.add_argument("--architecture", choices=("conv", "mlp"), default="conv",
                        help="the transforms: conv (the seeds' model, default) or mlp")
    parser.add_argument("--epochs", type=_positive_int, default=15, help="epochs (default 15)")
    parser.add_argument("--steps-per-epoch", type=_positive_int, default=None,
                        help="steps per epoch (default: one pass over the 60,000 training digits, 469 steps)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed, 0..2**32-1 (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="quick mode: a small budget (also on when LDC_QUICK=1)")


def build_parser():
    """Return the ``python -m ldc`` argument parser."""
    parser = _Parser(prog="python -m ldc", description="Learned data compression of MNIST digits.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a model (or load it from the cache) and report its test rate and distortion")
    _add_model_options(train)
    train.add_argument("--no-cache", action="store_true", help="train even if the model is cached, and do not store it")
    compress = commands.add_parser("compress", help="compress digits (.npy or .png) into an ldc container")
    _add_model_options(compress)
    compress.add_argument("input", type=Path, help=".npy of uint8 digits (N, 28, 28) or (N, 28, 28, 1), or a 28x28 PNG")
    compress.add_argument("output", type=Path, help="container file to write")
    decompress = commands.add_parser("decompress", help="decompress an ldc container into a .npy of uint8 digits")
    decompress.add_argument("input", type=Path, help="container written by `compress`")
    decompress.add_argument("output", type=Path, help=".npy file to write: uint8 (N, 28, 28)")
    return parser


def _config(args, quick=None):
    """The TrainConfig the options name; ``quick`` None: --quick, else LDC_QUICK. Bad values are InputError."""
    from ldc.training import TrainConfig

    options = dict(lmbda=args.lmbda, latent_dims=args.latent_dims, architecture=args.architecture,
                   epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed)
    if quick is not None or args.quick:
        options["quick"] = True if quick is None else quick
    try:
        return TrainConfig(**options)
    except ValueError as err:
        raise InputError(str(err)) from err


def train_command(config):
    """Return the ``python -m ldc train ...`` line that trains ``config``, or None when no command line can.

    Written from the validated configuration's fields, and parsed back to
    check that it makes the very same configuration.
    """
    argv = ["train", "--lmbda", f"{config.lmbda:g}", "--epochs", str(config.epochs)]
    if config.latent_dims != 50:
        argv += ["--latent-dims", str(config.latent_dims)]
    if config.architecture != "conv":
        argv += ["--architecture", config.architecture]
    if config.steps_per_epoch is not None:
        argv += ["--steps-per-epoch", str(config.steps_per_epoch)]
    if config.seed != 0:
        argv += ["--seed", str(config.seed)]
    if config.quick:
        argv.append("--quick")
    args = build_parser().parse_args(argv)
    return " ".join(["python", "-m", "ldc", *argv]) if _config(args, quick=args.quick) == config else None


def read_digits(path):
    """Return uint8 digits (N, 28, 28) from a .npy array or a 28x28 PNG (see :func:`ldc.digit_files.read_digits`)."""
    from ldc.digit_files import read_digits as read

    return read(path)


def _refuse_to_overwrite(source, target):
    """InputError when writing ``target`` would replace ``source`` (the same path, a hard link or a symlink to it).

    FileError when ``target`` is a path ldc never writes (a device, a FIFO, a folder, a symbolic link loop).
    """
    from ldc.files import output_target

    replaced = output_target(target)
    try:
        same = replaced.exists() and os.path.samefile(source, replaced)
    except OSError:
        same = False
    if same or os.path.realpath(source) == os.path.realpath(replaced):
        raise InputError(f"{target} is the input file {source}: writing it would destroy the input; "
                         "choose another output name")


def _train(args, out):
    from ldc.data import load_mnist
    from ldc.trained import load_or_train

    config = _config(args)
    trained = load_or_train(config, use_cache=not args.no_cache)
    measured = trained.codec().measure(load_mnist("test", limit=config.test_digits).images)
    report = {
        "lmbda": config.lmbda,
        "latent_dims": config.latent_dims,
        "epochs": config.epochs,
        "steps_per_epoch": trained.steps // config.epochs,
        "mode": config.mode,
        "cache": trained.cache,
        "train_seconds": round(trained.train_seconds, 2),
        "steps_per_second": round(trained.steps_per_second, 2),
        "test_digits": measured["digits"],
        "test_rate_bits": round(measured["information_bits"], 3),
        "test_real_bits": round(measured["real_bits"], 3),
        "test_overhead_percent": round(measured["overhead_percent"], 2),
        "test_mae": round(measured["mae"], 5),
        "test_psnr_db": round(measured["psnr_db"], 3),
        "fingerprint": trained.fingerprint.hex(),
        "cache_path": str(trained.path) if trained.path else None,
    }
    print(json.dumps(report), file=out)


def _compress(args, out):
    from ldc.trained import load_or_train

    digits = read_digits(args.input)
    _refuse_to_overwrite(args.input, args.output)
    config = _config(args)
    codec = load_or_train(config).codec()
    size = codec.write(args.output, digits)
    information = codec.information_bits(codec.latents(digits)).mean()
    print(f"wrote {len(digits)} digits to {printable(args.output)}: {size} bytes, {8 * size / len(digits):.1f} bits per digit "
          f"(information content {information:.1f})", file=out)


def _decompress(args, out):
    from ldc.container import read_container
    from ldc.errors import ContainerError, ModelNotFoundError
    from ldc.files import atomic_write_bytes
    from ldc.trained import find_model

    container = read_container(args.input)
    _refuse_to_overwrite(args.input, args.output)
    try:
        codec = find_model(container.fingerprint, container.description).codec()
        digits = codec.from_container(container)
    except (ModelNotFoundError, ContainerError) as err:
        raise type(err)(f"{args.input}: {err}") from err
    buffer = io.BytesIO()
    np.save(buffer, digits)
    atomic_write_bytes(args.output, buffer.getvalue())
    print(f"wrote {len(digits)} digits to {printable(args.output)}: uint8 {digits.shape}", file=out)


def main(argv=None, out=None):
    """Run the command line; return the exit status (0 ok, 1 bad input, 2 bad usage)."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    handler = {"train": _train, "compress": _compress, "decompress": _decompress}[args.command]
    try:
        handler(args, out)
    except LdcError as err:
        print(f"ldc: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"ldc: error: {printable(where + (err.strerror or str(err)))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ldc: interrupted", file=sys.stderr)
        return 130
    return 0
