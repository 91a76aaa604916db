"""tools/release_models.py end to end, offline: a bare git repository as origin, a stand-in for gh, a local server.

What the ``models`` workflow does on GitHub, in quick mode: train, release,
verify every file from its public address, commit ``ldc/published.json``.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import ldc

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.integration, pytest.mark.release]


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, text=True, capture_output=True).stdout.strip()


def clone(origin, where):
    subprocess.run(["git", "clone", "--quiet", str(origin), str(where)], check=True)
    for key, value in (("user.name", "Test"), ("user.email", "test@example.org")):
        git(where, "config", key, value)
    return where


def new_origin(tmp_path, name):
    """A bare repository whose main holds an empty registry and a README, as a new course repository does."""
    origin = tmp_path / f"{name}.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(origin)], check=True)
    seed = clone(origin, tmp_path / f"{name}-seed")
    (seed / "ldc").mkdir()
    (seed / "ldc" / "published.json").write_text(json.dumps({"format": 1, "release": "models-v1", "models": {}}))
    (seed / "README.md").write_text("a course\n")
    git(seed, "add", ".")
    git(seed, "commit", "--quiet", "-m", "start")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    return origin


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()  # one address for the whole test, as GitHub's release URLs stay put


def release_models(work, releases, **env):
    """Run the tool in ``work`` under tools/serve_release.py --releases, with the stand-in gh; return the process."""
    gh = releases.parent / "bin" / "gh"
    if not gh.exists():
        gh.parent.mkdir(exist_ok=True)
        gh.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'fake_gh.py'} \"$@\"\n")
        gh.chmod(0o755)
    environment = dict(os.environ, GH=str(gh), FAKE_GH_RELEASES=str(releases), LDC_QUICK="1", **env)
    environment.pop("GITHUB_REPOSITORY", None)
    return subprocess.run([sys.executable, str(ROOT / "tools" / "serve_release.py"), "--releases", "--port", str(PORT),
                           str(releases), "--", sys.executable, str(ROOT / "tools" / "release_models.py"), "--quick",
                           "--out", str(work.parent / f"{work.name}-out")],
                          cwd=work, env=environment, text=True, capture_output=True, timeout=1200)


def commits(origin):
    return git(origin, "log", "--format=%H %s", "main").splitlines()


def test_release_models_publishes_verifies_and_pins_once(tmp_path):
    releases = tmp_path / "releases"
    releases.mkdir()
    origin = new_origin(tmp_path, "origin")
    work = clone(origin, tmp_path / "work")
    trained_at = git(work, "rev-parse", "HEAD")
    # Someone pushes to main while the models train: the registry's commit must be rebased over it.
    other = clone(origin, tmp_path / "other")
    (other / "NOTES.md").write_text("a concurrent change\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "--quiet", "-m", "concurrent")
    git(other, "push", "--quiet", "origin", "HEAD:main")
    before = commits(origin)

    first = release_models(work, releases)
    print(first.stdout[-3000:], first.stderr[-3000:])
    assert first.returncode == 0, first.stderr[-3000:]
    after = commits(origin)
    assert after[1:] == before and len(after) == len(before) + 1, "main gains exactly one commit"
    newest = after[0].split()[0]
    assert git(origin, "show", "--format=", "--name-only", newest).splitlines() == ["ldc/published.json"]
    assert "push refused (attempt 1): rebasing" in first.stdout

    configs = ldc.experiments.book_configs(quick=True)
    keys = sorted(config.cache_key() for config in configs)
    tag = "models-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
    committed = json.loads(git(origin, "show", f"{newest}:ldc/published.json"))
    uploaded = json.loads((releases / tag / "registry.json").read_text())
    assert committed == uploaded and sorted(committed["models"]) == keys and committed["release"] == tag
    assert committed["url"].startswith("http://127.0.0.1:") and committed["url"].endswith(f"/{tag}/")
    assert (releases / f"{tag}.target").read_text() == trained_at, "the release targets the commit that trained"
    assert first.stdout.count("release: verified ") == len(configs)

    # An empty cache downloads and verifies every model from the committed registry, as a reader's would.
    registry_file = tmp_path / "committed.json"
    registry_file.write_text(json.dumps(committed))
    check = ("import os, ldc; from ldc import published, cache\n"
             "configs = ldc.experiments.book_configs(quick=True)\n"
             "for c in configs: published.fetch(c, cache.entry_path(c.cache_key()))\n"
             "print('fetched', len(configs))\n")
    served = subprocess.run([sys.executable, str(ROOT / "tools" / "serve_release.py"), "--releases", "--port",
                             str(PORT), str(releases), "--", sys.executable, "-c", check],
                            env=dict(os.environ, LDC_CACHE_DIR=str(tmp_path / "reader"),
                                     LDC_MODELS_REGISTRY=str(registry_file), LDC_QUICK="1"),
                            text=True, capture_output=True, timeout=600)
    assert served.returncode == 0 and f"fetched {len(configs)}" in served.stdout, served.stderr[-2000:]

    # A second run finds the registry complete: nothing trained, released or committed.
    again = clone(origin, tmp_path / "again")
    second = release_models(again, releases)
    assert second.returncode == 0 and "lists all" in second.stdout and "nothing to do" in second.stdout
    assert commits(origin) == after and sorted(p.name for p in releases.iterdir()) == [tag, f"{tag}.target"]

    # A tampered asset in an existing release stops a run before it commits anything.
    origin2 = new_origin(tmp_path, "origin2")
    work2 = clone(origin2, tmp_path / "work2")
    victim = sorted((releases / tag).glob("*.npz"))[0]
    original = victim.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    victim.write_bytes(bytes(damaged))
    start2 = commits(origin2)
    third = release_models(work2, releases)
    assert third.returncode == 1 and "verification failed, nothing committed" in third.stderr, third.stderr[-2000:]
    assert victim.name in third.stderr and commits(origin2) == start2
    victim.write_bytes(original)

    # An upload damaged on the way (a new release, written from the same cache) is caught the same way.
    releases3 = tmp_path / "releases3"
    releases3.mkdir()
    fourth = release_models(work2, releases3, FAKE_GH_TAMPER="1")
    assert fourth.returncode == 1 and "verification failed, nothing committed" in fourth.stderr, fourth.stderr[-2000:]
    assert commits(origin2) == start2
    # ...and the same cache published again gives the same files, byte for byte.
    for path in sorted((releases / tag).iterdir()):
        if path.name != victim.name and path.suffix == ".npz":
            assert path.read_bytes() == (releases3 / tag / path.name).read_bytes(), path.name
    assert (releases / tag / "registry.json").read_bytes() != b"" and json.loads(
        (releases3 / tag / "registry.json").read_text())["models"].keys() == uploaded["models"].keys()
