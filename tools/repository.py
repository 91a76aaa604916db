"""The repository the course names: one address, in ``_config.yml``, that every install line follows.

    python tools/repository.py check
    python tools/repository.py set https://github.com/OWNER/NAME

Colab opens a chapter's notebook with nothing installed, so the chapter's first
cell installs ldc from the repository it came from
(``%pip install "ldc @ git+URL@main"``): the notebook, the student notebook,
the README and the docs all name that address, and so does ``_config.yml``
(the book's repository and launch buttons). ``check`` fails, naming the file,
when any install line names another address than ``_config.yml``'s;
``make sync-check`` runs it. ``set`` moves every one of them to a new address
(the same text replaced in the .md and its paired .ipynb, so the pair stays in
sync); the book workflow runs it on a push to a repository the files do not
name yet, and commits the result, so a fork or a new home needs no manual step.
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "_config.yml"
# The files that name the repository: chapters and their notebooks, student notebooks, README, docs.
PATTERNS = ("book/*.md", "book/*.ipynb", "student/*.ipynb", "README.md", "docs/*.md", CONFIG)
_CONFIG_URL = re.compile(r"^(repository:\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*)(\S+)[ \t]*$", re.M)
_INSTALL = re.compile(r"ldc @ git\+(?P<url>https?://[^@\s\"\\]+)@")
_URL = re.compile(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def configured(root=ROOT):
    """Return the repository address ``_config.yml`` names (its ``repository: url:``)."""
    match = _CONFIG_URL.search((Path(root) / CONFIG).read_text())
    if not match:
        raise SystemExit(f"{CONFIG}: no 'repository:' block with a 'url:' line")
    return match.group(2)


def files(root=ROOT):
    """The tracked files that may name the repository."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *PATTERNS], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    return [Path(root) / name for name in listed.split("\0") if name]


def mismatches(root=ROOT):
    """Return ``[(file, address)]``: install lines that name another repository than ``_config.yml``."""
    url = configured(root)
    return [(path.relative_to(root), match.group("url")) for path in files(root)
            for match in _INSTALL.finditer(path.read_text()) if match.group("url") != url]


def set_repository(url, root=ROOT):
    """Name ``url`` everywhere the old address was named; return the files changed."""
    url = url.rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    if not _URL.fullmatch(url):
        raise SystemExit(f"{url!r}: expected a repository address such as https://github.com/OWNER/NAME")
    old = configured(root)
    if mismatches(root):
        raise SystemExit("some install lines do not name the repository of _config.yml: run "
                         "`python tools/repository.py check` and mend them first")
    changed = []
    if url == old:
        return changed
    for path in files(root):
        text = path.read_text()
        if path.name == CONFIG:
            new = _CONFIG_URL.sub(lambda m: m.group(1) + url, text, count=1)
        else:
            new = text.replace(f"git+{old}@", f"git+{url}@")
        if new != text:
            path.write_text(new)
            changed.append(path.relative_to(root))
    return changed


def main(argv=None, root=ROOT):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="every install line names the repository of _config.yml")
    to = commands.add_parser("set", help="name another repository everywhere")
    to.add_argument("url")
    args = parser.parse_args(argv)
    if args.command == "check":
        wrong = mismatches(root)
        for path, url in wrong:
            print(f"{path}: installs ldc from {url}, but {CONFIG} names {configured(root)}")
        if wrong:
            print("run `python tools/repository.py set URL` to name one repository everywhere")
            return 1
        print(f"repository: every install line names {configured(root)}")
        return 0
    changed = set_repository(args.url, root)
    print(f"repository: {configured(root)} named in {len(changed)} files" if changed
          else f"repository: already {configured(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
