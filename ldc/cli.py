"""Command line: ``python -m ldc train | compress | decompress | publish`` (models and files without a notebook).

    python -m ldc train --lmbda 2000 [--latent-dims 50] [--epochs 15] [--steps-per-epoch S] [--quick]
    python -m ldc compress --lmbda 2000 [--quick] digits.npy digits.ldc
    python -m ldc decompress digits.ldc digits.npy
    python -m ldc publish OUT [--quick] [--release TAG] [--url URL] # the book's models and registry.json, for a release

``train`` prints progress on stderr and, as the last line of stdout, one JSON
object with the model's measured rate and distortion on the test digits.
Bad input exits with status 1 and one line naming the problem.
"""
import io
import json
import os
import sys

import numpy as np

from ldc.arguments import EXIT_ERROR, build_parser, config_from_args
from ldc.errors import InputError, LdcError, printable


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
    from ldc.zoo import load_or_train

    config = config_from_args(args)
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
    from ldc.zoo import load_or_train

    digits = read_digits(args.input)
    _refuse_to_overwrite(args.input, args.output)
    config = config_from_args(args)
    codec = load_or_train(config).codec()
    size = codec.write(args.output, digits)
    information = codec.information_bits(codec.latents(digits)).mean()
    print(f"wrote {len(digits)} digits to {printable(args.output)}: {size} bytes, "
          f"{8 * size / len(digits):.1f} bits per digit "
          f"(information content {information:.1f})", file=out)


def _decompress(args, out):
    from ldc.container import read_container
    from ldc.errors import ContainerError, ModelNotFoundError
    from ldc.files import atomic_write_bytes
    from ldc.zoo import find_model

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


def _publish(args, out):
    from ldc import experiments, published
    from ldc.data import load_mnist
    from ldc.modes import quick_mode
    from ldc.zoo import load_or_train

    quick = True if args.quick else quick_mode()
    configs = experiments.book_configs(quick)
    experiments.prepare(configs, jobs=args.jobs)

    def measure(config):
        test = load_mnist("test", limit=config.test_digits)
        if config.architecture == "classifier":
            accuracy = load_or_train(config, verbose=False).accuracy(test.images, test.labels)
            return {"test_digits": len(test), "test_accuracy": round(accuracy, 6)}
        measured = load_or_train(config, verbose=False).codec().measure(test.images)
        return {"test_digits": measured["digits"], "test_rate_bits": round(measured["information_bits"], 4),
                "test_real_bits": round(measured["real_bits"], 4), "test_mae": round(measured["mae"], 6),
                "test_psnr_db": round(measured["psnr_db"], 4)}

    registry = published.publish(configs, args.out, measure, lambda line: print(line, file=sys.stderr, flush=True),
                                 release=args.release, url=args.url)
    size = sum(model["size"] for model in registry["models"].values())
    print(f"published {len(registry['models'])} models ({size / 1e6:.1f} MB) and registry.json to "
          f"{printable(args.out)} (tools/release_models.py uploads them and commits registry.json as "
          f"ldc/published.json)", file=out)


def main(argv=None, out=None):
    """Run the command line; return the exit status (0 ok, 1 bad input, 2 bad usage)."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    handler = {"train": _train, "compress": _compress, "decompress": _decompress, "publish": _publish}[args.command]
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
