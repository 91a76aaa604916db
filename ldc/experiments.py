"""The trained models the chapters use, in one list, and :func:`prepare` to train the missing ones first.

Every configuration a chapter loads comes from a function here, so the book
build (``make book``) trains exactly what the chapters will ask for, before
any chapter runs, and a chapter run on its own (Colab, Jupyter, nbval) asks
for the same models and trains whatever its cache lacks. Functions, not
constants: each configuration reads quick or full mode (``LDC_QUICK``) when
it is made.

    reference()       lambda=2000, 15 epochs: the tutorial's model (chapters 3, 5, 6)
    transforms()      conv and MLP transforms with 2, 5, 20, 50 latents, 5 epochs (chapters 2, 6)
    lambda_sweep()    one 15-epoch model per lambda (chapter 4; chapter 5 decodes its lambda=500 strings)
    report_check()    the report's four lambdas after 5 epochs (chapter 4)
    denoiser()        lambda=2000, 15 epochs, trained on noisy digits (sigma 0.5) to give clean ones (chapter 7)
    classifier()      the digit classifier, 10 epochs on the clean training digits (chapter 7)

``LDC_SEED_OFFSET=k`` adds k to every one of these configurations' seeds
(0 by default): the same book from other trained models, to check that no
page depends on the particular weights one machine's training produced.
"""
from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context

from ldc import settings
from ldc.training import SEED_OFFSET_ENV, SEEDS, TrainConfig, _log

REFERENCE_LAMBDA = 2000  # the tutorial's setting
SWEEP_LAMBDAS = (100, 300, 500, 1000, 2000, 4000)
REPORT_LAMBDAS = (300, 500, 1000, 2000)  # the report's table, after 5 epochs
TRANSFORM_LATENTS = (2, 5, 20, 50)
SHORT_EPOCHS = 5
DENOISER_NOISE = 0.5  # the autoencoder repository's noise factor, on [0, 1] pixels


def reference(quick=None):
    """Return the configuration of the tutorial's model: lambda=2000, 50 latents, 15 epochs."""
    return _config(lmbda=REFERENCE_LAMBDA, quick=quick)


def transforms(quick=None):
    """Return ``{(architecture, latent_dims): TrainConfig}``: conv and MLP with 2-50 latents, lambda=2000, 5 epochs."""
    return {(architecture, d): _config(lmbda=REFERENCE_LAMBDA, epochs=SHORT_EPOCHS, latent_dims=d,
                                       architecture=architecture, quick=quick)
            for architecture in ("conv", "mlp") for d in TRANSFORM_LATENTS}


def lambda_sweep(quick=None):
    """Return ``{lmbda: TrainConfig}``, one 15-epoch model per lambda of the rate-distortion sweep."""
    return {lmbda: _config(lmbda=lmbda, quick=quick) for lmbda in SWEEP_LAMBDAS}


def report_check(quick=None):
    """Return ``{lmbda: TrainConfig}`` for the report's four lambdas, trained for 5 epochs as the report was."""
    return {lmbda: _config(lmbda=lmbda, epochs=SHORT_EPOCHS, quick=quick) for lmbda in REPORT_LAMBDAS}


def denoiser(quick=None):
    """Return the denoising codec's configuration: the reference model, trained noisy (σ 0.5) -> clean."""
    return _config(lmbda=REFERENCE_LAMBDA, noise=DENOISER_NOISE, quick=quick)


def classifier(quick=None):
    """Return the digit classifier's configuration (:mod:`ldc.recognition`): 10 epochs on the clean digits."""
    from ldc.recognition import ClassifierConfig

    fields = {"seed": seed_offset()}
    return ClassifierConfig(**fields) if quick is None else ClassifierConfig(**fields, quick=quick)


def book_configs(quick=None):
    """Return every distinct configuration the chapters load, the longest trainings first."""
    configs = [reference(quick), *transforms(quick).values(), *lambda_sweep(quick).values(),
               *report_check(quick).values(), denoiser(quick), classifier(quick)]
    unique = list({config.cache_key(): config for config in configs}.values())
    return sorted(unique, key=_expected_work, reverse=True)


def seed_offset():
    """Return ``LDC_SEED_OFFSET`` as an int (0 when unset); ConfigurationError when it is not a whole number >= 0."""
    return settings.whole_number(SEED_OFFSET_ENV, 0, SEEDS)


def _config(quick=None, **fields):
    fields["seed"] = seed_offset()
    return TrainConfig(**fields) if quick is None else TrainConfig(**fields, quick=quick)


def _expected_work(config):
    # Steps times a rough cost per step: the convolutional pair does about 5x the MLP's arithmetic, the
    # classifier's step about 2.5x (131 s for 10 epochs against 390 s for a 15-epoch conv codec).
    cost = {"conv": 5, "classifier": 2.5}.get(config.architecture, 1)
    return config.epochs * (config.steps_per_epoch or 469) * cost


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` did: ``found`` models already cached, ``downloaded`` published ones, ``trained`` now, and
    the wall time in seconds."""

    found: int
    downloaded: int
    trained: int
    seconds: float


def prepare(configs, jobs=1, log=None):
    """Make sure every configuration's model is in the model cache: download the published ones, train the rest.
    Return :class:`Prepared`.

    Prints one line per model (found, downloaded, or trained and in how many
    seconds). A missing model the registry of published models lists
    (:mod:`ldc.published`) is downloaded and verified first, unless
    ``LDC_PRETRAINED=0``.
    ``jobs`` > 1 trains that many models at once, one process each with
    TensorFlow's thread pools sized to share the cores. A missing model that
    is a longer missing run's first epochs (chapter 4's 5-epoch models) is
    stored as that run passes it, instead of being trained again. Each model
    is stored as soon as it is trained, so an interrupted run keeps the
    models it finished.
    """
    from ldc import cache, published

    log = log or _log
    started = time.perf_counter()
    pretrained = published.enabled()
    missing = []
    for config in configs:
        path = cache.entry_path(config.cache_key())
        try:
            cache.load_entry(path)  # reads and verifies the arrays; builds no model
        except FileNotFoundError:
            missing.append(config)
        except cache.CorruptEntryError as err:
            removed = cache.remove_entry(path)
            log(f"model cache: {err}; " + ("it will be trained again" if removed else
                                             "it cannot be removed (a read-only cache?)"))
            missing.append(config)
    found = len(configs) - len(missing)
    downloaded = 0
    if missing and pretrained:
        left = []
        for config in missing:
            try:
                note = published.fetch(config, cache.entry_path(config.cache_key()))
            except published.NotPublished:
                left.append(config)
            except published.PublishedError as err:
                log(f"published model: {err}; it will be trained")
                left.append(config)
            else:
                downloaded += 1
                log(f"downloaded {config.describe()} ({note})")
        missing = left
    runs = _runs(missing)
    log(f"models: {len(configs)} needed, {found} in the cache at {cache.models_dir()}"
        + (f", {downloaded} downloaded" if downloaded else "") + f", {len(missing)} to train"
        + (f" ({min(jobs, len(runs))} at a time)" if len(runs) > 1 else ""))
    done = 0
    for config, snapshots, seconds in _train_all(runs, jobs):
        for snapshot, snapshot_seconds in zip(snapshots, seconds[1:]):
            done += 1
            log(f"[{done}/{len(missing)}] trained {snapshot.describe()}: its first {snapshot.epochs} epochs, "
                f"stored after {snapshot_seconds:.0f} s of the next model's run")
        done += 1
        log(f"[{done}/{len(missing)}] trained {config.describe()} in {seconds[0]:.0f} s")
    return Prepared(found, downloaded, len(missing), time.perf_counter() - started)


def _runs(missing):
    """Group missing configurations into runs: ``(config, [shorter configurations it passes through])``."""
    longest_first = sorted(missing, key=lambda config: config.epochs, reverse=True)
    runs = {}
    for config in longest_first:
        carrier = next((run for run in runs if run.epochs > config.epochs
                        and dataclasses.replace(config, epochs=run.epochs) == run), None)
        if carrier is None:
            runs[config] = []
        else:
            runs[carrier].append(config)
    return sorted(runs.items(), key=lambda item: _expected_work(item[0]), reverse=True)


def _train_all(runs, jobs):
    """Yield ``(config, snapshots, [train seconds of config, then of each snapshot])`` as each run finishes."""
    if jobs <= 1 or len(runs) <= 1:
        for config, snapshots in runs:
            yield config, snapshots, _train_and_store(config.to_dict(), [s.to_dict() for s in snapshots])
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)
    # Workers inherit these before they import TensorFlow, which reads them when it starts.
    with settings.environment(TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS=str(threads)), \
            ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_train_and_store, config.to_dict(), [s.to_dict() for s in snapshots]):
                   (config, snapshots) for config, snapshots in runs}
        for future in as_completed(futures):
            config, snapshots = futures[future]
            yield config, snapshots, future.result()


def _train_and_store(config_dict, snapshot_dicts):
    """Train one configuration (and its snapshots) into the cache, in a worker process when training in parallel.

    Returns the train seconds of the configuration, then of each snapshot (its epochs in that run).
    """
    from ldc.recognition import KIND, ClassifierConfig
    from ldc.zoo import load_or_train

    if config_dict.get("kind") == KIND:
        return [load_or_train(ClassifierConfig.from_dict(config_dict), verbose=False).train_seconds]
    snapshots = [TrainConfig.from_dict(d) for d in snapshot_dicts]
    trained = load_or_train(TrainConfig.from_dict(config_dict), verbose=False, snapshots=snapshots)
    return [trained.train_seconds] + [sum(record["seconds"] for record in trained.history[:s.epochs])
                                      for s in snapshots]
