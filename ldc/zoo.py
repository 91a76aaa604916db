"""Trained models from the cache, the published release, or trained now and cached (chapters 2-7).

:func:`load_or_train` is the one way to get anything trained: a codec (a
:class:`~ldc.training.TrainConfig`) or chapter 7's digit classifier (a
:class:`~ldc.recognition.ClassifierConfig`). It returns the model for a
configuration from the on-disk cache when a trustworthy entry exists; else
the published model (:mod:`ldc.published`: downloaded, verified, stored in
the cache); else it trains it (a codec with its range-coding tables) and
stores it. A corrupt or partial entry is reported, deleted and rebuilt, never loaded.
(Named as CompressAI names its module of pretrained models; :mod:`ldc.training`
is the loop that trains one.)
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ldc import cache, published
from ldc._tf import tf
from ldc.arguments import train_command
from ldc.backends import entropy_backend
from ldc.codec import Codec, model_fingerprint
from ldc.entropy import CodingTables, prior_tables
from ldc.errors import ConfigurationError, InputError, ModelNotFoundError
from ldc.model import CompressionModel, named_weights, set_named_weights
from ldc.recognition import ClassifierConfig, classifier_entry, restore_classifier, train_classifier
from ldc.training import TrainConfig, _log, describe_model, train


@dataclass
class TrainedModel:
    """A trained model with its configuration, coding tables, per-epoch history and timings.

    ``cache`` says where it came from: "hit" (loaded), "published"
    (downloaded from the published release now, and stored), "miss" (trained
    now and stored) or "off" (trained now, cache not used). ``release`` names
    the release it was published in, if it was. Timings are those of the run
    that trained it, in seconds.
    """

    config: TrainConfig
    model: CompressionModel
    tables: CodingTables
    history: list
    train_seconds: float
    step_seconds: float
    steps: int
    cache: str
    path: Optional[Path] = None
    trained_with: dict = field(default_factory=dict)  # python, tensorflow, keras, entropy backend
    release: Optional[str] = None

    @property
    def fingerprint(self):
        """16 bytes identifying the weights and tables (what container files record)."""
        return model_fingerprint(self.model, self.tables)

    @property
    def steps_per_second(self):
        """Training steps per second of the run that trained this model (evaluation excluded)."""
        return self.steps / self.step_seconds if self.step_seconds > 0 else float("nan")

    def codec(self):
        """Return a :class:`~ldc.codec.Codec` for this model (its files record the configuration)."""
        return Codec(self.model, self.tables, description=self.config.to_dict())


_WEIGHTS = "weights/"
_TABLES = "tables/"


def _arrays_and_meta(trained):
    arrays = {_WEIGHTS + name: value for name, value in named_weights(trained.model).items()}
    arrays.update({_TABLES + name: value for name, value in trained.tables.arrays().items()})
    meta = {
        "config": trained.config.to_dict(),
        "fingerprint": trained.fingerprint.hex(),
        "history": trained.history,
        "train_seconds": trained.train_seconds,
        "step_seconds": trained.step_seconds,
        "steps": trained.steps,
        "trained_with": trained.trained_with,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return arrays, meta


def _stack():
    """What trained a model here: Python, TensorFlow, Keras and the entropy backend."""
    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": importlib.metadata.version("keras"), "entropy": entropy_backend()}


def _restore_codec(path, arrays, meta):
    """The :class:`TrainedModel` an entry holds; KeyError, ValueError or TypeError when it cannot be trusted."""
    config = TrainConfig.from_dict(meta["config"])
    model = CompressionModel(config.latent_dims, config.architecture)
    set_named_weights(model, {name[len(_WEIGHTS):]: value for name, value in arrays.items()
                              if name.startswith(_WEIGHTS)})
    tables = CodingTables.from_arrays({name[len(_TABLES):]: value for name, value in arrays.items()
                                       if name.startswith(_TABLES)})
    if tables.channels != config.latent_dims:
        raise ValueError(f"{tables.channels} coding tables for {config.latent_dims} latents")
    fingerprint = model_fingerprint(model, tables)
    if fingerprint.hex() != meta["fingerprint"]:
        raise ValueError("restored weights do not reproduce the stored fingerprint")
    release = meta.get("release")
    return TrainedModel(config, model, tables, meta["history"], meta["train_seconds"], meta["step_seconds"],
                        meta["steps"], "hit", path, meta.get("trained_with", {}),
                        release if isinstance(release, str) else None)


@dataclass(frozen=True)
class _Kind:
    """How one kind of trained thing is restored from a cache entry, trained, and written to one."""

    restore: Callable  # (config, path, arrays, meta) -> the thing, cache "hit"; KeyError, ValueError, TypeError if not
    train: Callable  # (config, path, verbose, log, on_epoch) -> the thing, cache "miss" (path None: "off")
    entry: Callable  # the thing -> (arrays, meta)


def _restore(kind, config, path, arrays, meta):
    """Return what a cache entry holds; :class:`~ldc.cache.CorruptEntryError` when it cannot be trusted."""
    try:
        return kind.restore(config, path, arrays, meta)
    except ConfigurationError:
        raise  # about this process's switches, not about the entry: never a reason to delete it
    except (KeyError, ValueError, TypeError) as err:
        raise cache.CorruptEntryError(f"{path}: {err}") from err


def _train_codec(config, path, verbose, log, on_epoch):
    return _trained(config, train(config, verbose=verbose, log=log, on_epoch=on_epoch),
                    "miss" if path else "off", path)


def _train_classifier(config, path, verbose, log, on_epoch):
    if verbose:
        log(f"training the {config.describe()}")
    classifier = train_classifier(config)
    classifier.cache = "miss" if path else "off"
    return classifier


_KINDS = {
    TrainConfig: _Kind(lambda config, path, arrays, meta: _restore_codec(path, arrays, meta), _train_codec,
                       _arrays_and_meta),
    ClassifierConfig: _Kind(lambda config, path, arrays, meta: restore_classifier(config, arrays, meta),
                            _train_classifier, classifier_entry),
}


def load_or_train(config, use_cache=True, verbose=True, log=None, snapshots=()):
    """Return the trained model of ``config``, from the cache, the published release, or trained now.

    A :class:`~ldc.training.TrainConfig` gives a :class:`TrainedModel` (a
    codec); a :class:`~ldc.recognition.ClassifierConfig` a
    :class:`~ldc.recognition.Classifier`. Both say in ``cache`` where they
    came from: "hit", "published", "miss" (trained now, stored) or "off".

    Args:
      config: what to train; its fields and mode (quick or full) are the cache key.
      use_cache: False trains without reading or writing the cache.
      verbose: print progress (cache hits, epochs) to stderr or ``log``.
      log: a function taking one message string, instead of printing.
      snapshots: codecs only: configurations equal to ``config`` but for
        fewer epochs. If ``config`` is trained now, each is stored in the
        cache as the run passes its last epoch: training is seeded, its
        learning rate constant and its data order fixed by the seed, so the
        first k epochs of a longer run are the k-epoch model. ``make book``
        uses this for chapter 4's 5-epoch models.
    """
    kind = _KINDS.get(type(config))
    if kind is None:
        raise InputError(f"load_or_train: expected a TrainConfig or a ClassifierConfig (ldc.TrainConfig(lmbda=...), "
                         f"or one of ldc.experiments), got {type(config).__name__}")
    # The switches are read before the cache is: a bad one must fail here, not pass for a damaged entry.
    entropy_backend()
    pretrained = published.enabled()
    published.timeout()
    log = log or _log
    for snapshot in snapshots:
        if (type(snapshot) is not type(config) or not isinstance(config, TrainConfig)
                or snapshot.epochs >= config.epochs or dataclasses.replace(snapshot, epochs=config.epochs) != config):
            raise ValueError(f"snapshot {snapshot.describe()} is not {config.describe()} with fewer epochs")
    path = cache.entry_path(config.cache_key()) if use_cache else None
    if use_cache:
        try:
            arrays, meta = cache.load_entry(path)
            trained = _restore(kind, config, path, arrays, meta)
            if verbose:
                # One short line: chapters print it for every model they load.
                origin = f"from {trained.release}" if trained.release else f"trained in {trained.train_seconds:.0f} s"
                log(f"model cache: {config.describe()} ({origin})")
            return trained
        except FileNotFoundError:
            pass
        except cache.CorruptEntryError as err:
            if cache.remove_entry(path):
                log(f"model cache: {err}; removed it, training again")
            else:
                log(f"model cache: {err}, and it cannot be removed (a read-only cache?); training without the cache")
                use_cache, path = False, None
    if use_cache and pretrained:
        trained = _fetch_published(kind, config, path, verbose, log)
        if trained is not None:
            return trained
    by_epoch = {snapshot.epochs: snapshot for snapshot in snapshots} if use_cache else {}

    def on_epoch(result):
        snapshot = by_epoch.get(len(result.history))
        if snapshot is not None:
            snapshot_path = cache.entry_path(snapshot.cache_key())
            _store(kind, _trained(snapshot, result, "miss", snapshot_path), snapshot_path, verbose, log)

    trained = kind.train(config, path, verbose, log, on_epoch if by_epoch else None)
    if use_cache:
        _store(kind, trained, path, verbose, log)
    return trained


def _fetch_published(kind, config, path, verbose, log):
    """Return the published model of ``config``, now in the cache at ``path``, or None (one line says why)."""
    try:
        note = published.fetch(config, path)
        arrays, meta = cache.load_entry(path)
        trained = _restore(kind, config, path, arrays, meta)
    except published.NotPublished:
        return None  # nothing to say: the registry lists no such model (quick mode's never are)
    except (published.PublishedError, cache.CorruptEntryError) as err:
        cache.remove_entry(path)
        log(f"published model: {err}; training it instead")
        return None
    trained.cache = "published"
    if verbose:
        log(f"downloaded {config.describe()} ({note})")
    return trained


def _trained(config, result, how, path):
    return TrainedModel(config, result.model, prior_tables(result.model.prior), result.history,
                        result.train_seconds, result.step_seconds, result.steps, how, path, _stack())


def _store(kind, trained, path, verbose, log):
    """Store a freshly trained model in the cache; an unwritable cache must not throw the training away."""
    try:
        cache.save_entry(path, *kind.entry(trained))
    except OSError as err:
        log(f"model cache: could not store the model in {path} ({err}); it is used, not cached")
        trained.cache = "off"
        if isinstance(trained, TrainedModel):
            trained.path = None
    else:
        if verbose:
            log(f"model cache: stored {trained.config.describe()} (trained in {trained.train_seconds:.0f} s)")


def find_model(fingerprint, description=None):
    """Return the cached :class:`TrainedModel` whose fingerprint (16 bytes) matches; ModelNotFoundError if none.

    ``description`` (the dict a container file carries: untrusted) only
    improves the error message: it names the model, escaped, and when it is a
    configuration this ldc can train, the command that trains it, written from
    the validated configuration, never from the file's text.
    """
    if not isinstance(fingerprint, bytes):
        raise InputError(f"fingerprint: expected bytes, got {type(fingerprint).__name__}")
    entropy_backend()  # a bad LDC_ENTROPY is named as such, not as a missing model
    wanted = fingerprint.hex()
    for path, meta in cache.iter_entries():
        if meta.get("fingerprint") == wanted:
            try:
                arrays, meta = cache.load_entry(path)
                return _restore(_KINDS[TrainConfig], None, path, arrays, meta)
            except cache.CorruptEntryError:
                continue  # another entry may still hold it; a damaged one is rebuilt when its config is loaded
    message = f"no model with fingerprint {wanted} in the model cache at {cache.models_dir()}"
    if description:
        message += f"; the file was written by a model trained with {describe_model(description)}"
        try:
            command = train_command(TrainConfig.from_dict(description))
        except (ValueError, TypeError):
            command = None
        if command:
            message += (f" (run `{command}` to train it here; training is seeded, but only a "
                        "bit-identical result has the same fingerprint)")
    raise ModelNotFoundError(message)
