"""`make book`'s build (tools/build_book.py) fails on a broken chapter, and says where, in every mode.

Each test builds a one-chapter book in a temporary folder with the project's
own _config.yml, through the same script `make book` runs.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# A chapter

```{code-cell} ipython3
x = 1
```

Some text.

"""

pytestmark = pytest.mark.integration


def make_book(tmp_path, cell, timeout=60):
    """Write a book whose one chapter's second code cell is ``cell``; return its root."""
    root = tmp_path / "root"
    (root / "book").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["timeout"] = timeout
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/01_chapter\n")
    (root / "book" / "intro.md").write_text("# A book\n")
    (root / "book" / "01_chapter.md").write_text(HEADER + "```{code-cell} ipython3\n" + cell + "\n```\n")
    return root


def second_cell_line(root):
    """The line of the chapter's second ```{code-cell} fence, counted from 1."""
    lines = (root / "book" / "01_chapter.md").read_text().splitlines()
    return [number for number, line in enumerate(lines, start=1) if line.startswith("```{code-cell}")][1]


def build(root, *flags):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--root", str(root),
                           "--out", str(root / "_build"), "--no-models", *flags],
                          capture_output=True, text=True, timeout=600, cwd=ROOT / "tools")


@pytest.mark.parametrize("flags", [["--quick"], []], ids=["quick", "full"])
def test_a_failing_cell_fails_the_build_naming_the_chapter_the_cell_and_the_report(tmp_path, flags):
    root = make_book(tmp_path, "print('before')\n1 / 0")
    result = build(root, *flags)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    report = root / "_build" / "_build" / "html" / "reports" / "book" / "01_chapter.err.log"
    assert report.is_file()
    assert (f"book/01_chapter.md: code cell 2 (line {second_cell_line(root)}) failed: ZeroDivisionError: "
            f"division by zero; report: {report}") in result.stderr
    assert "BROKEN" in result.stderr and "is at" not in result.stdout


def test_a_cell_that_runs_past_the_timeout_fails_the_build(tmp_path):
    root = make_book(tmp_path, "import time\ntime.sleep(120)", timeout=3)
    result = build(root, "--quick")
    assert result.returncode == 1
    assert f"book/01_chapter.md: code cell 2 (line {second_cell_line(root)}) failed: " in result.stderr
    assert "CellTimeoutError" in result.stderr


def test_a_rebuild_executes_a_broken_chapter_again_instead_of_keeping_its_page(tmp_path):
    # The chapter fails until a file appears (as chapter 4 did until its models were trained), its source unchanged.
    flag = tmp_path / "models-ready"
    root = make_book(tmp_path, f"import os\nassert os.path.exists({str(flag)!r}), 'models missing'")
    assert build(root, "--quick").returncode == 1
    flag.touch()
    result = build(root, "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    page = (root / "_build" / "_build" / "html" / "book" / "01_chapter.html").read_text()
    assert "AssertionError" not in page and "Traceback" not in page
    assert "1 chapters built in quick mode" in result.stdout


def test_a_page_left_broken_by_an_earlier_build_fails_the_check(tmp_path):
    root = make_book(tmp_path, "1 / 0")
    assert build(root, "--quick").returncode == 1
    # Even with the report gone, the page with the error output is found.
    for report in (root / "_build").rglob("*.err.log"):
        report.unlink()
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from build_book import find_failures
    finally:
        sys.path.remove(str(ROOT / "tools"))
    html = root / "_build" / "_build" / "html"
    failures = find_failures(root, html, [Path("book/01_chapter.md")])
    assert len(failures) == 1 and "shows an error output" in failures[0]


def test_a_notebook_run_outside_make_prints_no_debugger_warning(tmp_path):
    """On Python 3.12+ the debugger warns about frozen modules, in Jupyter's process and in the kernel's,
    unless PYDEVD_DISABLE_FILE_VALIDATION is set: `make setup` sets it in the venv (a .pth file) and in
    its kernelspec, so a reader's `jupyter nbconvert --execute` is as quiet as make's runs."""
    notebook = tmp_path / "one.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                   "source": "print('ran')"}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    env = {k: v for k, v in os.environ.items() if k != "PYDEVD_DISABLE_FILE_VALIDATION"}
    result = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                             "--output", str(tmp_path / "ran.ipynb"), str(notebook)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    ran = (tmp_path / "ran.ipynb").read_text()
    assert "ran" in ran
    for where, text in (("jupyter's output", result.stderr + result.stdout), ("the notebook", ran)):
        assert "frozen modules" not in text, (
            f"the debugger's frozen-modules warning in {where}: run `make setup` (it quiets this venv)")
