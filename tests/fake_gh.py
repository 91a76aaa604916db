"""A stand-in for GitHub's ``gh`` (release view / create), for tests/test_release.py: no network.

Releases are folders under ``FAKE_GH_RELEASES``: ``<tag>/`` holds the assets,
where tools/serve_release.py --releases serves them, and ``<tag>.target`` the
commit the release was created at. ``FAKE_GH_TAMPER=1`` flips a byte of the
first model file as it is uploaded (an upload damaged on the way).
"""
import os
import shutil
import sys
from pathlib import Path


def main(argv):
    root = Path(os.environ["FAKE_GH_RELEASES"])
    if argv[:2] == ["release", "view"] and len(argv) == 3:
        return 0 if (root / argv[2]).is_dir() else 1
    if argv[:2] == ["release", "create"]:
        tag, rest = argv[2], argv[3:]
        options, files = {}, []
        while rest:
            if rest[0].startswith("--"):
                options[rest[0]] = rest[1]
                rest = rest[2:]
            else:
                files.append(rest.pop(0))
        folder = root / tag
        if folder.exists():
            print(f"a release with tag {tag} already exists", file=sys.stderr)
            return 1
        folder.mkdir(parents=True)
        for name in files:
            shutil.copy(name, folder / Path(name).name)
        (root / f"{tag}.target").write_text(options.get("--target", ""))
        if os.environ.get("FAKE_GH_TAMPER") == "1":
            victim = sorted(folder.glob("*.npz"))[0]
            data = bytearray(victim.read_bytes())
            data[len(data) // 2] ^= 0x01
            victim.write_bytes(bytes(data))
        return 0
    print(f"fake gh: unsupported {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
