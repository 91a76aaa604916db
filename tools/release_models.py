"""Publish the book's models as a GitHub release and pin them in ldc/published.json, with no manual step.

    python tools/release_models.py [--quick] [--branch main] [--remote origin]

Run from the root of a clone whose HEAD is the commit to publish from (the
``models`` workflow runs it on every push to main). In order:

1. If ``ldc/published.json`` already lists every model of
   ``ldc.experiments.book_configs()``, say so and stop: nothing is trained,
   released or committed.
2. Name the release from its content: ``models-`` and 12 hex digits of the
   SHA-256 of the sorted cache keys. The same models always get the same tag.
3. If no release has that tag: ``python -m ldc publish`` (trains what the
   cache lacks; writes the files and a registry whose ``url`` is the release's
   download address), then ``gh release create TAG --target HEAD`` with the
   files. An existing release is never changed: its registry is downloaded
   instead.
4. Verify: every model is downloaded from its public address into an empty
   cache and checked as a reader's ldc checks it (size, SHA-256, arrays,
   configuration). Any failure stops here, before anything is committed.
5. Commit the registry as ``ldc/published.json`` (that file only) and push it
   to the branch; when the push is refused because the branch moved, rebase
   on it and try again.

The download address is ``RELEASE_DOWNLOAD_URL`` (``{tag}`` stands for the
tag) when set, else GitHub's for ``GITHUB_REPOSITORY``. ``GH`` names the
``gh`` command (default ``gh``). tests/test_release.py runs all of it offline,
with a stand-in for ``gh`` and tools/serve_release.py as the download server.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REGISTRY = Path("ldc/published.json")
PUSH_ATTEMPTS = 5


class ReleaseError(Exception):
    """A step failed: the message says which, and nothing was committed."""


def say(line):
    print(f"release: {line}", flush=True)


def run(command, check=True, **kwargs):
    result = subprocess.run(command, text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        raise ReleaseError(f"{' '.join(command[:4])} failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-600:]}")
    return result


def git(*args, check=True):
    return run(["git", *args], check=check)


def release_tag(keys):
    """Return the release's tag for these cache keys: ``models-`` and 12 hex digits of their sorted list's SHA-256."""
    return "models-" + hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:12]


def download_url(tag):
    """Return where the release's files will be downloaded from (ending in ``/``)."""
    template = os.environ.get("RELEASE_DOWNLOAD_URL", "").strip()
    if not template:
        repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
        if not repository:
            raise ReleaseError("set GITHUB_REPOSITORY (owner/name) or RELEASE_DOWNLOAD_URL: the registry must say "
                               "where its files are")
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        template = f"{server}/{repository}/releases/download/{{tag}}/"
    url = template.replace("{tag}", tag)
    return url if url.endswith("/") else url + "/"


def fetch_registry(url, folder):
    """Download an existing release's registry.json into ``folder``; return its path."""
    import requests

    try:
        response = requests.get(url + "registry.json", timeout=60)
        response.raise_for_status()
    except requests.RequestException as err:
        raise ReleaseError(f"the existing release's registry.json cannot be downloaded from {url} ({err})") from None
    path = Path(folder) / "registry.json"
    path.write_bytes(response.content)
    return path


def verify(registry_path, configs):
    """Download every model of ``configs`` from the registry's own address into an empty cache, checked as a reader's
    ldc does."""
    from ldc import cache, published, settings

    # LDC_MODELS_URL unset: the address readers get is the registry's.
    with tempfile.TemporaryDirectory(prefix="ldc-verify-") as empty, \
            settings.environment(LDC_CACHE_DIR=empty, LDC_MODELS_REGISTRY=str(registry_path), LDC_MODELS_URL=None):
        registry = published.load_registry()
        url = published.base_url(registry)
        for config in configs:
            try:
                note = published.fetch(config, cache.entry_path(config.cache_key()))
            except published.PublishedError as err:
                raise ReleaseError(f"verification failed, nothing committed: {err}") from None
            say(f"verified {published.file_name(config)} from {url} ({note})")


def commit_and_push(registry_path, tag, remote, branch):
    """Commit the registry as ldc/published.json and push it; rebase on the branch and retry when it moved."""
    shutil.copyfile(registry_path, REGISTRY)
    git("add", str(REGISTRY))
    if not git("diff", "--cached", "--quiet", check=False).returncode:
        say("ldc/published.json already holds this registry: nothing to commit")
        return
    identity = [] if git("config", "user.email", check=False).stdout.strip() else [
        "-c", "user.name=ldc release", "-c", "user.email=ldc-release@users.noreply.github.com"]
    git(*identity, "commit", "--quiet", "-m", f"Pin the published models of release {tag} (ldc/published.json)",
        "--", str(REGISTRY))
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        pushed = git("push", "--quiet", remote, f"HEAD:refs/heads/{branch}", check=False)
        if pushed.returncode == 0:
            say(f"pushed {git('rev-parse', '--short', 'HEAD').stdout.strip()} to {remote}/{branch}")
            return
        say(f"push refused (attempt {attempt}): rebasing on {remote}/{branch}")
        git("fetch", "--quiet", remote, branch)
        rebased = git(*identity, "rebase", "--quiet", "FETCH_HEAD", check=False)
        if rebased.returncode != 0:
            git("rebase", "--abort", check=False)
            raise ReleaseError(f"cannot rebase the registry commit on {remote}/{branch}: "
                               f"{rebased.stderr.strip()[-400:]}")
    raise ReleaseError(f"the push to {remote}/{branch} was refused {PUSH_ATTEMPTS} times")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick mode's models (for tests)")
    parser.add_argument("--remote", default="origin")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--out", type=Path, default=Path("release"), help="folder for the release's files")
    args = parser.parse_args(argv)

    from ldc import experiments, published

    configs = experiments.book_configs(args.quick)
    keys = sorted(config.cache_key() for config in configs)
    committed = published.load_registry(REGISTRY)
    if all(key in committed["models"] for key in keys):
        say(f"ldc/published.json lists all {len(keys)} models: nothing to do")
        return 0
    tag = release_tag(keys)
    url = download_url(tag)
    gh = os.environ.get("GH", "gh")
    head = git("rev-parse", "HEAD").stdout.strip()
    with tempfile.TemporaryDirectory(prefix="ldc-release-") as scratch:
        if run([gh, "release", "view", tag], check=False).returncode == 0:
            say(f"release {tag} exists: it is not changed; its registry is verified and committed")
            registry_path = fetch_registry(url, scratch)
        else:
            if args.out.exists():
                shutil.rmtree(args.out)
            command = [sys.executable, "-m", "ldc", "publish", str(args.out), "--release", tag, "--url", url]
            say(" ".join(command[1:]))
            made = subprocess.run(command + (["--quick"] if args.quick else []))
            if made.returncode != 0:
                raise ReleaseError(f"python -m ldc publish failed ({made.returncode})")
            registry_path = args.out / "registry.json"
            files = sorted(str(path) for path in args.out.iterdir())
            run([gh, "release", "create", tag, "--target", head, "--title", tag, "--notes",
                 f"The book's trained models ({len(keys)}), pinned by ldc/published.json.", *files])
            say(f"created release {tag} at {head[:12]} with {len(files)} files")
        registry = json.loads(Path(registry_path).read_text())
        if sorted(registry.get("models", {})) != keys or registry.get("release") != tag:
            raise ReleaseError(f"release {tag}'s registry does not list exactly the book's models: nothing committed")
        verify(registry_path, configs)
        commit_and_push(registry_path, tag, args.remote, args.branch)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ReleaseError as err:
        print(f"release: error: {err}", file=sys.stderr)
        sys.exit(1)
