"""tools/side_by_side.py: both commands run to the end, every line labelled, a failure named and shown last."""
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "side_by_side.py"


def run(*args):
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60)


def test_both_commands_run_and_a_failure_fails_the_whole_naming_which():
    result = run("one", "echo first; sleep 0.2; echo second; exit 3", "two", "echo alone")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("[one 00:0") and line.endswith("] second") for line in lines)
    assert any(line.startswith("[two 00:0") and line.endswith("] alone") for line in lines)
    assert "side_by_side: one failed (exit 3)" in result.stdout
    assert "side_by_side: two passed" in result.stdout
    # the failed command's own lines come again after everything, so the end of a log says why
    tail = result.stdout[result.stdout.index("--- the last 2 lines of one ---"):]
    assert tail.splitlines()[1:3] == ["first", "second"]


def test_two_passing_commands_pass_and_a_wrong_call_says_how_to_call_it():
    assert run("a", "true", "b", "true").returncode == 0
    wrong = run("only one")
    assert wrong.returncode == 2 and "side_by_side.py LABEL" in wrong.stderr
