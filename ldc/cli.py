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
import sys
from pathlib import Path

import numpy as np

from ldc.errors import InputError, LdcError

EXIT_ERROR = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the problem, and where the help is)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _add_model_options(parser):
    parser.add_argument("--lmbda", type=_positive_float, required=True,
                        help="weight of distortion in the loss rate + lmbda * MAE (e.g. 300, 500, 1000, 2000)")
    parser.add_argument("--latent-dims", type=_positive_int, default=50, help="latent size (default 50)")
    parser.add_argument("--epochs", type=_positive_int, default=15, help="epochs (default 15)")
    parser.add_argument("--steps-per-epoch", type=_positive_int, default=None,
                        help="steps per epoch (default: one pass over the 60,000 training digits, 469 steps)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
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


def _config(args):
    from ldc.training import TrainConfig

    options = dict(lmbda=args.lmbda, latent_dims=args.latent_dims, epochs=args.epochs,
                   steps_per_epoch=args.steps_per_epoch, seed=args.seed)
    if args.quick:
        options["quick"] = True
    try:
        return TrainConfig(**options)
    except ValueError as err:
        raise InputError(str(err)) from err


def read_digits(path):
    """Return uint8 digits (N, 28, 28) from a .npy array or a PNG image; InputError names what is wrong."""
    from ldc.data import as_digits

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, EOFError) as err:
            raise InputError(f"{path}: not a readable .npy array ({err})") from err
        if not isinstance(array, np.ndarray):
            raise InputError(f"{path}: expected one array, found an archive of several")
    elif suffix == ".png":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                if image.size != (28, 28):
                    raise InputError(f"{path}: the image is {image.size[0]}x{image.size[1]} pixels, expected 28x28")
                array = np.asarray(image.convert("L"))
        except (UnidentifiedImageError, SyntaxError) as err:
            raise InputError(f"{path}: not a readable PNG image ({err})") from err
    else:
        raise InputError(f"{path}: expected a .npy array of digits or a .png image, got a '{suffix or 'no'}' suffix")
    return as_digits(array, name=str(path))


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
    config = _config(args)
    codec = load_or_train(config).codec()
    size = codec.write(args.output, digits)
    information = codec.information_bits(codec.latents(digits)).mean()
    print(f"wrote {len(digits)} digits to {args.output}: {size} bytes, {8 * size / len(digits):.1f} bits per digit "
          f"(information content {information:.1f})", file=out)


def _decompress(args, out):
    from ldc.container import atomic_write_bytes, read_container
    from ldc.trained import find_model

    container = read_container(args.input)
    codec = find_model(container.fingerprint, container.description).codec()
    digits = codec.from_container(container)
    buffer = io.BytesIO()
    np.save(buffer, digits)
    atomic_write_bytes(args.output, buffer.getvalue())
    print(f"wrote {len(digits)} digits to {args.output}: uint8 {digits.shape}", file=out)


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
        print(f"ldc: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("ldc: interrupted", file=sys.stderr)
        return 130
    return 0
