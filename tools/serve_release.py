"""Run a command while a release folder of published models is served over HTTP on this machine.

    python tools/serve_release.py RELEASE_FOLDER -- COMMAND [ARGS ...]
    python tools/serve_release.py --releases FOLDER -- COMMAND [ARGS ...]

Serves RELEASE_FOLDER (written by ``python -m ldc publish``) on 127.0.0.1 at a
free port, runs COMMAND with ``LDC_MODELS_URL`` and ``LDC_MODELS_REGISTRY``
pointing at it, stops the server and exits with COMMAND's status. ``make
test-colab`` runs the chapters this way, so that a reader's first load
downloads as on Colab, with no internet.

With ``--releases``, FOLDER holds one folder per release tag, as GitHub serves
a repository's releases: COMMAND gets ``RELEASE_DOWNLOAD_URL`` (``{tag}`` for
the tag) instead, the address tools/release_models.py records in a registry
(tests/test_release.py).
"""
import argparse
import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="a folder holding registry.json and the model files")
    parser.add_argument("--releases", action="store_true", help="the folder holds one folder per release tag")
    parser.add_argument("--port", type=int, default=0, help="the port to serve on (default: a free one)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    registry = args.release / "registry.json"
    if not command or not (args.release.is_dir() if args.releases else registry.is_file()):
        parser.error(f"expected a release folder with registry.json ({registry}) and -- COMMAND"
                     if not args.releases else f"expected a folder of releases ({args.release}) and -- COMMAND")
    handler = functools.partial(_Quiet, directory=str(args.release.resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"serve_release: {args.release} at {url}", flush=True)
    if args.releases:
        env = dict(os.environ, RELEASE_DOWNLOAD_URL=url + "{tag}/")
    else:
        env = dict(os.environ, LDC_MODELS_URL=url, LDC_MODELS_REGISTRY=str(registry.resolve()))
    try:
        return subprocess.run(command, env=env).returncode
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
