"""Published models: trained once, downloaded and verified instead of trained again (chapters 2-7).

The book's models are assets of a GitHub release, which the ``models``
workflow creates (``tools/release_models.py``). What a reader may download is
pinned by a registry committed in this package (``ldc/published.json``): the
address of the files (``url``, written at publish time for the repository
that published them), and for each model its cache key, file name, size,
SHA-256, configuration and the test rate and MAE measured when it was
published. Nothing in it depends on when it was written: the same cache
published twice gives the same bytes. :func:`ldc.load_or_train` asks here when the cache lacks a model:
the file is downloaded with pooch (retries, a progress bar on a terminal,
the hash check), checked again as ldc checks a cache entry (its arrays'
SHA-256, its configuration, its fingerprint), and only then moved into the
cache, so a partial, altered or foreign file is never read back as a model.
Any failure (offline, 404, a timeout, a wrong size or hash, a damaged file, an
entry for another configuration) is one line, and the model is trained.

Switches: ``LDC_MODELS_URL`` (another place for the files: a mirror, a local
folder, a local server), ``LDC_MODELS_REGISTRY`` (another registry file: a
release you made with ``python -m ldc publish``), ``LDC_PRETRAINED=0`` (never
download: always train), ``LDC_MODELS_TIMEOUT`` (seconds a download may stall,
default 30). :func:`publish` writes a release: the files and their registry.
"""
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from ldc import cache, settings
from ldc.errors import LdcError, shown
from ldc.files import atomic_write_bytes, open_input
from ldc.training import describe_model

RELEASE = "models-v1"
REGISTRY = Path(__file__).with_name("published.json")
REGISTRY_FORMAT = 1
URL_ENV, REGISTRY_ENV, PRETRAINED_ENV, TIMEOUT_ENV = ("LDC_MODELS_URL", "LDC_MODELS_REGISTRY", "LDC_PRETRAINED",
                                                      "LDC_MODELS_TIMEOUT")
DEFAULT_TIMEOUT = 30.0
RETRIES = 2
MAX_FILE_BYTES = 1 << 30  # no model of the book's comes near: a registry announcing more is refused


class PublishedError(LdcError):
    """A published model could not be used (unreachable, not the file the registry pins, not a model)."""


class NotPublished(PublishedError):
    """The registry lists no model for a configuration."""


def enabled():
    """Return False when ``LDC_PRETRAINED`` turns published models off (0/false/no/off); ConfigurationError for other
    values."""
    return settings.flag(PRETRAINED_ENV, default=True)


def timeout():
    """Return the seconds a download may stall (``LDC_MODELS_TIMEOUT``, default 30)."""
    return settings.seconds(TIMEOUT_ENV, DEFAULT_TIMEOUT, 3600)


def base_url(registry=None):
    """Return where the release's files are: ``LDC_MODELS_URL`` (a URL or a folder), else the registry's ``url``."""
    configured = settings.text(URL_ENV)
    if configured:
        return configured if "://" in configured else str(Path(configured).expanduser().resolve())
    url = (registry or {}).get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise PublishedError(f"the registry names no address for its files (its url is {shown(repr(url), 80)}); "
                             f"set {URL_ENV}")
    return url


def registry_path():
    """Return the registry in use: ``LDC_MODELS_REGISTRY``, else the one committed in the package."""
    configured = settings.text(REGISTRY_ENV)
    return Path(configured).expanduser() if configured else REGISTRY


def load_registry(path=None):
    """Return the registry at ``path`` (default :func:`registry_path`) as a dict; PublishedError when it is not one."""
    path = Path(path or registry_path())
    try:
        with open_input(path, "registry") as stream:
            registry = json.loads(stream.read(1 << 22).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PublishedError(f"the registry {path} cannot be read ({shown(str(err), 120)})") from None
    if (not isinstance(registry, dict) or registry.get("format") != REGISTRY_FORMAT
            or not isinstance(registry.get("models"), dict)):
        raise PublishedError(f"the registry {path} is not a registry of format {REGISTRY_FORMAT}")
    return registry


def entry_for(config, registry):
    """Return the registry's entry for ``config`` (a TrainConfig), or None; PublishedError when it is malformed."""
    entry = registry["models"].get(config.cache_key())
    if entry is None:
        return None
    ok = (isinstance(entry, dict) and isinstance(entry.get("file"), str) and "/" not in entry["file"]
          and not entry["file"].startswith(".") and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64
          and isinstance(entry.get("size"), int) and 0 < entry["size"] <= MAX_FILE_BYTES)
    if not ok:
        raise PublishedError(f"the registry's entry for {config.describe()} is malformed")
    return entry


def sha256_of(path):
    """Return the SHA-256 (hex) of the file at ``path``."""
    digest = hashlib.sha256()
    with open_input(path) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Bounded:
    """A file that refuses to grow past ``limit`` bytes: a server cannot fill the disk with a file too long."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.written = stream, limit, 0

    def write(self, data):
        self.written += len(data)
        if self.written > self.limit:
            raise PublishedError(f"the server sent more than the {self.limit:,} bytes the registry announces")
        return self.stream.write(data)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _http_downloader(size, seconds):
    """A pooch downloader (HTTP, with a stall timeout) that refuses a file longer than ``size``."""
    import pooch

    http = pooch.HTTPDownloader(progressbar=sys.stderr.isatty(), timeout=seconds)

    def download(url, output_file, pooch_):
        with open(output_file, "w+b") as stream:
            http(url, _Bounded(stream, size), pooch_)

    return download


def _fetch_file(entry, folder, url):
    """Download (or copy, from a folder) one registry entry's file into ``folder``; return its path, hash-checked."""
    name, size, sha256 = entry["file"], entry["size"], entry["sha256"]
    if "://" not in url:  # a local folder: nothing to download, the same checks
        source = Path(url) / name
        target = folder / name
        try:
            with open_input(source) as stream:
                data = stream.read(size + 1)
        except OSError as err:
            raise PublishedError(f"{shown(str(source), 120)}: {err.strerror or err}") from None
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            raise PublishedError(f"{name} from {shown(url, 120)} is not the file the registry pins "
                                 f"({len(data):,} bytes, expected {size:,} with SHA-256 {sha256[:12]}...)")
        atomic_write_bytes(target, data)
        return target
    import pooch
    import requests

    fetcher = pooch.create(path=folder, base_url=url if url.endswith("/") else url + "/",
                           registry={name: f"sha256:{sha256}"}, retry_if_failed=RETRIES)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # ldc says what it downloads, in one line
    try:
        path = Path(fetcher.fetch(name, downloader=_http_downloader(size, timeout())))
    except PublishedError as err:
        raise PublishedError(f"{name}: {err}") from None
    except requests.HTTPError as err:
        status = getattr(err.response, "status_code", "?")
        raise PublishedError(f"{name}: the server answered HTTP {status}") from None
    except requests.Timeout:
        raise PublishedError(f"{name}: the server sent nothing for {timeout():g} s") from None
    except requests.RequestException as err:
        raise PublishedError(f"{name}: cannot download it ({type(err).__name__})") from None
    except ValueError as err:  # pooch's hash check
        detail = "its SHA-256 is not the one the registry pins" if "hash" in str(err).lower() else shown(str(err))
        raise PublishedError(f"{name}: {detail}") from None
    except OSError as err:
        raise PublishedError(f"{name}: {err.strerror or err}") from None
    finally:
        logger.setLevel(level)
    if path.stat().st_size != size:
        path.unlink(missing_ok=True)
        raise PublishedError(f"{name}: {path.stat().st_size:,} bytes, the registry announces {size:,}")
    return path


def fetch(config, target):
    """Put the published model of ``config`` at ``target`` (a cache entry's path), verified; return a short note.

    NotPublished when the registry lists none; PublishedError (one line)
    when it cannot be used. The cache is then exactly as it was.
    """
    registry = load_registry()
    entry = entry_for(config, registry)
    if entry is None:
        raise NotPublished(f"no published model for {config.describe()} in {registry_path()}")
    url = base_url(registry)
    folder = cache.cache_dir() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    path = _fetch_file(entry, folder, url)
    try:
        arrays, meta = cache.load_entry(path)  # the arrays' own SHA-256
        if meta.get("config") != config.to_dict():
            held = describe_model(meta["config"]) if isinstance(meta.get("config"), dict) else "no configuration"
            raise PublishedError(f"{entry['file']} holds the model {held}, not {config.describe()}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)  # the same file system: the cache sees all of it or nothing
    except cache.CorruptEntryError as err:
        raise PublishedError(f"{entry['file']} is not a model ldc can read ({err})") from None
    finally:
        if path.exists():
            path.unlink()
    return f"{entry['size'] / 1e6:.1f} MB, verified"


def file_name(config):
    """Return the published file name of a configuration: readable, and unique by its cache key."""
    if config.architecture == "classifier":
        return f"{config.mode}-classifier-{config.epochs}epochs-seed{config.seed}-{config.cache_key()[:12]}.npz"
    noise = f"-noise{config.noise:g}" if config.noise else ""
    return (f"{config.mode}-{config.architecture}-{config.latent_dims}latents-lmbda{config.lmbda:g}{noise}-"
            f"{config.epochs}epochs-seed{config.seed}-{config.cache_key()[:12]}.npz")


def publish(configs, out, measure, log, release=RELEASE, url=None):
    """Write the release of ``configs`` to the folder ``out``: each model's file and ``registry.json``; return the
    registry.

    ``url`` is where readers will download the files from (the release's
    address, ending in ``/``); the registry records it. The files and the
    registry carry no time: publishing the same cache twice gives the same bytes.

    Each model comes from the cache (``ldc.experiments.prepare`` trains what is
    missing first). ``measure(config)`` returns its test rate and MAE, stored
    with it. A file is the model's cache entry, its arrays as they are (float32:
    a reader's model is the maintainer's to the last bit, the same
    fingerprint), its record naming the release.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models = {}
    for config in configs:
        key = config.cache_key()
        arrays, meta = cache.load_entry(cache.entry_path(key))  # verified before it is published
        name = file_name(config)
        cache.save_entry(out / name, arrays, {**meta, "release": release})
        measured = measure(config)
        models[key] = {"file": name, "size": (out / name).stat().st_size, "sha256": sha256_of(out / name),
                       "config": config.to_dict(), **measured}
        if "fingerprint" in meta:  # a codec's; the classifier has none
            models[key]["fingerprint"] = meta["fingerprint"]
        log(f"publish: {name}: {models[key]['size'] / 1e6:.1f} MB, "
            + ", ".join(f"{field} {value:g}" for field, value in measured.items() if field.startswith("test_")))
    registry = {"format": REGISTRY_FORMAT, "release": release, "models": models}
    if url:
        registry["url"] = url if url.endswith("/") else url + "/"
    atomic_write_bytes(out / "registry.json", (json.dumps(registry, indent=1, sort_keys=True) + "\n").encode())
    return registry

