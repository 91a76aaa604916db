"""The command line's grammar: ``python -m ldc``'s parser, and the ``train`` command that makes a configuration.

Its own module so that both the command line (:mod:`ldc.cli`) and the
messages that suggest a command (:func:`ldc.zoo.find_model`) import it,
and neither imports the other.
"""
import argparse
from pathlib import Path

import numpy as np

from ldc.errors import InputError, printable

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
    train = commands.add_parser("train", help="train a model (or load it from the cache) "
                                "and report its test rate and distortion")
    _add_model_options(train)
    train.add_argument("--no-cache", action="store_true", help="train even if the model is cached, and do not store it")
    compress = commands.add_parser("compress", help="compress digits (.npy or .png) into an ldc container")
    _add_model_options(compress)
    compress.add_argument("input", type=Path, help=".npy of uint8 digits (N, 28, 28) or (N, 28, 28, 1), or a 28x28 PNG")
    compress.add_argument("output", type=Path, help="container file to write")
    decompress = commands.add_parser("decompress", help="decompress an ldc container into a .npy of uint8 digits")
    decompress.add_argument("input", type=Path, help="container written by `compress`")
    decompress.add_argument("output", type=Path, help=".npy file to write: uint8 (N, 28, 28)")
    publish = commands.add_parser("publish", help="write the book's models and their registry to a folder, for a "
                                  "release (trains what the cache lacks)")
    publish.add_argument("out", type=Path, help="folder for the model files and registry.json")
    publish.add_argument("--quick", action="store_true", help="quick mode's models (also on when LDC_QUICK=1)")
    publish.add_argument("--release", default="models-v1", help="the release's name (default models-v1)")
    publish.add_argument("--url", help="where readers will download the files (the release's address), recorded in "
                         "the registry")
    publish.add_argument("--jobs", type=_positive_int, default=2, help="models trained at once (default 2)")
    return parser


def config_from_args(args, quick=None):
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
    return " ".join(["python", "-m", "ldc", *argv]) if config_from_args(args, quick=args.quick) == config else None
