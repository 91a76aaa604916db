"""Run the chapters' first-cell install in a Colab-like venv, pointed at this checkout; check it adds only \
what Colab lacks.

    .venv-colab/bin/python tools/colab_install.py --pins ../shared/colab/colab-preinstalled.txt

Run with the Colab-like venv's own Python (``make test-colab`` does). It
takes the ``%pip install`` line of the first cell of the chapters (the same in
every chapter), replaces the GitHub URL with this checkout (built afresh, not
from pip's cache of an earlier build of it), removes ldc and
what it alone brought from an earlier run, and runs the command, timed. It
fails, naming them, when the install changed the version of any package the
venv had (Colab's TensorFlow, Keras, numpy, ...), or did not bring ldc.
"""
import argparse
import importlib.metadata
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
REPOSITORY = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+@[\w./-]+")


def install_command(chapter):
    """Return the arguments of the first cell's ``%pip install`` (the part after ``%pip``)."""
    first = FIRST_CELL.search(chapter.read_text()).group(1)
    lines = [line.strip() for line in first.splitlines() if line.strip().startswith("%pip install")]
    if len(lines) != 1:
        sys.exit(f"colab_install: expected one %pip install line in the first cell of {chapter}, found {len(lines)}")
    return shlex.split(lines[0])[1:]


def installed():
    """Return ``{name: version}`` of the distributions installed in this Python."""
    return {dist.metadata["Name"].lower().replace("_", "-"): dist.version
            for dist in importlib.metadata.distributions()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=Path, required=True, help="Colab's pins (colab-preinstalled.txt)")
    args = parser.parse_args(argv)
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.md")) + sorted((ROOT / "book").glob("appendix_*.md"))
    commands = {tuple(install_command(chapter)) for chapter in chapters}
    if len(commands) != 1:
        sys.exit(f"colab_install: the chapters' first cells install different things: {commands}")
    arguments = [REPOSITORY.sub(ROOT.as_uri(), argument) for argument in commands.pop()]
    # pip keeps the wheel it built from a local folder and reuses it while the version is the same, and
    # this checkout changes under one version: build it afresh, as Colab does from git (it caches nothing).
    arguments.insert(arguments.index("install") + 1, "--no-cache-dir")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # Start from the Colab-like venv as built: no ldc, nothing it alone brought.
    subprocess.run(pip + ["uninstall", "--quiet", "--yes", "ldc", "constriction"], check=False,
                   capture_output=True)
    before = installed()
    pinned = {name.lower().replace("_", "-") for name in re.findall(r"^([\w.-]+)==", args.pins.read_text(), re.M)}
    print(f"colab_install: pip {' '.join(arguments)}")
    started = time.perf_counter()
    subprocess.run(pip + arguments, check=True)
    seconds = time.perf_counter() - started
    after = installed()
    changed = {name: (before[name], after.get(name)) for name in before if after.get(name) != before[name]}
    added = sorted(f"{name}=={after[name]}" for name in after if name not in before)
    if changed:
        sys.exit(f"colab_install: the first cell changed packages the runtime had: {changed}")
    if "ldc" not in after:
        sys.exit("colab_install: the first cell did not install ldc")
    print(f"colab_install: installed in {seconds:.1f} s; added {', '.join(added)}; "
          f"none of the {len(before)} packages already there changed "
          f"({len(pinned & set(before))} of them pinned by Colab's list)")


if __name__ == "__main__":
    main()
