"""ldc: learned data compression on MNIST, the tested package behind the course.

Every public name is available as ``ldc.X`` (e.g. ``ldc.load_or_train``,
``ldc.Codec``, ``ldc.psnr``); each lives in a small module named for its job:

    settings    the environment switches (LDC_QUICK, LDC_ENTROPY, ...), parsed in one place
    modes       quick and full mode (LDC_QUICK)
    backends    which entropy backend: tensorflow-compression where installed, else portable (LDC_ENTROPY)
    data        MNIST from TensorFlow Datasets, digits validated and kept in memory
    transforms  the analysis and synthesis transforms (convolutional and MLP)
    entropy     the prior, the training-time rate and the range coder, on either backend
    tables      the integer coding tables, computed by ldc and stored with each model
    logistic    the noisy logistic prior in plain TensorFlow (the portable backend)
    range_coding  constriction's range coder: one stream per file, or one string per digit
    tfc_backend   tensorflow-compression's prior and coder (the only module importing it)
    model       the compression model and the rate-distortion Lagrangian
    training    training configuration, step, optimizer and loop
    cache       the on-disk model cache
    trained     load_or_train: cached models, or trained now
    experiments the models the chapters use, in one list, and prepare() to train them first
    codec       compressor and decompressor, model fingerprints
    container   the file format for many compressed digits
    files       regular files only, read within bounds, written whole or not at all
    digit_files digits from a .npy array or a PNG, checked from the file's own bytes
    metrics     MAE, PSNR, bits per digit and per pixel
    baselines   the DCT codec and Pillow's PNG / JPEG / WebP
    noise       Gaussian noise on digits (chapter 7)
    recognition a digit classifier, trained once and cached (chapter 7)
    plotting    digit grids, prior densities, rate-distortion curves
    statistics  BD-rate, Wilson intervals, McNemar's test, label information, total correlation
    sources     the numbers the course's sources publish, and the verdict rule (the appendix)

Names are imported on first use, so ``import ldc`` is quick and pulls in
TensorFlow only when something needs it.
"""
import importlib

__version__ = "0.3.0"

_EXPORTS = {
    "modes": ["QUICK_ENV", "quick_mode", "mode_name", "describe_mode"],
    "backends": ["ENTROPY_ENV", "entropy_backend", "describe_backend"],
    "errors": ["LdcError", "InputError", "ConfigurationError", "FileError", "ContainerError", "ModelNotFoundError",
               "DataUnavailableError", "NotReadyError", "TrainingError"],
    "data": ["Digits", "load_mnist", "training_batches", "as_digits"],
    "transforms": ["make_analysis_transform", "make_synthesis_transform", "make_mlp_analysis_transform",
                   "make_mlp_synthesis_transform", "make_transforms", "count_parameters"],
    "entropy": ["LogisticPrior", "CodingTables", "prior_tables", "pmf_tables", "RangeCoder"],
    "range_coding": ["StreamCoder"],
    "model": ["CompressionModel", "lagrangian", "to_unit_images", "named_weights"],
    "training": ["TrainConfig", "TrainResult", "train", "evaluate", "make_train_step", "FusedAdam"],
    "zoo": ["TrainedModel", "load_or_train", "find_model"],
    "codec": ["Codec", "Compressed", "model_fingerprint", "string_checks"],
    "container": ["Container", "pack", "unpack", "read_container", "write_container"],
    "digit_files": ["read_digits"],
    "metrics": ["mae", "mse", "psnr", "psnr_per_image", "string_bits", "bits_per_digit", "bits_per_pixel"],
    "baselines": ["DCTCodec", "Encoded", "encode_pillow", "jpeg_segments", "dct_curve", "pillow_curve"],
    "noise": ["add_noise"],
    "recognition": ["ClassifierConfig", "Classifier", "fit_readout"],
    "statistics": ["bd_rate", "shared_range", "wilson_interval", "mcnemar", "confusion_matrix", "mutual_information",
                   "fano_min_bits", "gaussian_total_correlation"],
    "plotting": ["curve", "digit_grid", "digit_rows", "prior_densities", "rd_curves", "training_history"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = set(_EXPORTS) | {"settings", "cache", "cli", "experiments", "files", "tables", "logistic", "tfc_backend",
                               "source_numbers", "arguments"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"ldc.{_WHERE[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"ldc.{name}")
    else:
        raise AttributeError(f"module 'ldc' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
