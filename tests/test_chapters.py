"""The chapters' structure: pairing, the Colab cell, the mode line, exercises, readable code.

These read the chapter sources only (no execution): `make test` executes every
chapter in its strict book build and checks the built pages in a browser.
"""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.md"))
APPENDICES = sorted(BOOK.glob("appendix_*.md"))  # pages without exercises, run and checked like chapters
PAGES = CHAPTERS + APPENDICES
MAX_CODE_LINE = 80  # wider code scrolls sideways in the rendered book's column
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _code_cells(chapter):
    cells = []
    for body in CODE_CELL.findall(chapter.read_text()):
        lines = body.splitlines()
        while lines and lines[0].startswith(":"):  # cell options such as :tags:
            lines.pop(0)
        cells.append("\n".join(lines).strip())
    return cells


def _notebook(chapter):
    return json.loads(chapter.with_suffix(".ipynb").read_text())


def test_the_seven_chapters_and_the_appendix_are_in_the_toc_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [entry["file"] for entry in toc["chapters"]]
    assert listed == [f"book/{c.stem}" for c in PAGES]
    assert len(CHAPTERS) == 7 and [a.stem for a in APPENDICES] == ["appendix_sources"]
    assert toc["root"] == "book/intro"


@pytest.mark.parametrize("chapter", PAGES, ids=lambda c: c.stem)
def test_chapter_is_paired_with_a_committed_notebook_without_outputs(chapter):
    header = yaml.safe_load(chapter.read_text().split("---\n")[1])
    assert header["jupytext"]["formats"] == "ipynb,md:myst"
    notebook = _notebook(chapter)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(code) == len(_code_cells(chapter))
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


@pytest.mark.parametrize("chapter", PAGES, ids=lambda c: c.stem)
def test_first_cell_installs_ldc_on_colab_only_and_nothing_colab_has(chapter):
    config = _config()
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    first = _code_cells(chapter)[0]
    assert first == _code_cells(CHAPTERS[0])[0], "every chapter starts with the same install cell"
    assert 'if "google.colab" in sys.modules:' in first
    installs = [line.strip() for line in first.splitlines() if "%pip" in line]
    # ldc from the branch the launch buttons open; its loose dependencies add only what Colab lacks
    # (make test-colab checks that in a Colab-like environment).
    assert installs == [f'%pip install --quiet "ldc @ git+https://github.com/{repo}@{branch}"']
    assert "version_info" not in first and "raise" not in first, "no Python-version refusal"
    # Every install is inside the Colab-only branch.
    body = first.split('if "google.colab" in sys.modules:', 1)[1]
    assert all(line.startswith("    ") for line in body.strip("\n").splitlines())


@pytest.mark.parametrize("chapter", PAGES, ids=lambda c: c.stem)
def test_chapter_says_which_mode_made_its_outputs_and_imports_ldc(chapter):
    second = _code_cells(chapter)[1]
    assert "import ldc" in second
    assert "print(ldc.describe_mode())" in second


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_chapter_ends_with_two_to_four_exercises_each_with_a_folded_solution(chapter):
    text = chapter.read_text()
    assert "\n## Exercises\n" in text
    exercises = text.split("\n## Exercises\n", 1)[1]
    labels = re.findall(r"^````\{exercise\}[^\n]*\n:label: (ex-[\w-]+)$", exercises, re.M)
    solutions = re.findall(r"^````\{solution\} (ex-[\w-]+)\n:class: dropdown$", exercises, re.M)
    assert 2 <= len(labels) <= 4
    assert solutions == labels, "each exercise is followed by its solution, folded (a dropdown)"
    assert "<details>" not in text


def test_exercise_labels_are_unique_across_the_book():
    labels = [label for chapter in CHAPTERS
              for label in re.findall(r"^:label: (ex-[\w-]+)$", chapter.read_text(), re.M)]
    assert len(labels) == len(set(labels)) >= 2 * len(CHAPTERS)


@pytest.mark.parametrize("chapter", PAGES, ids=lambda c: c.stem)
def test_chapter_code_fits_the_page_and_redefines_nothing_from_ldc(chapter):
    import ldc

    cells = _code_cells(chapter)
    long_lines = [line for cell in cells for line in cell.splitlines() if len(line) > MAX_CODE_LINE]
    assert not long_lines, f"code lines over {MAX_CODE_LINE} characters: {long_lines[:3]}"
    defined = set(re.findall(r"^(?:def|class) (\w+)", "\n".join(cells), re.M))
    assert not defined & set(ldc.__all__), f"redefines ldc's {sorted(defined & set(ldc.__all__))}"
    assert "import *" not in "\n".join(cells)
