"""Run a command while a release folder of published models is served over HTTP on this machine.

    python tools/serve_release.py RELEASE_FOLDER -- COMMAND [ARGS ...]

Serves RELEASE_FOLDER (written by ``python -m ldc publish``) on 127.0.0.1 at a
free port, runs COMMAND with ``LDC_MODELS_URL`` and ``LDC_MODELS_REGISTRY``
pointing at it, stops the server and exits with COMMAND's status. ``make
test-colab`` runs the chapters this way, so that a reader's first load
downloads as on Colab, with no internet.
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
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    registry = args.release / "registry.json"
    if not registry.is_file() or not command:
        parser.error(f"expected a release folder with registry.json ({registry}) and -- COMMAND")
    handler = functools.partial(_Quiet, directory=str(args.release.resolve()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"serve_release: {args.release} at {url}", flush=True)
    env = dict(os.environ, LDC_MODELS_URL=url, LDC_MODELS_REGISTRY=str(registry.resolve()))
    try:
        return subprocess.run(command, env=env).returncode
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
