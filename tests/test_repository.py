"""tools/repository.py: one repository address, in _config.yml, that every install line follows."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import repository  # noqa: E402

OLD, NEW = "https://github.com/someone/ldc", "https://github.com/elsewhere/course"
LINE = f'%pip install --quiet "ldc @ git+{OLD}@main"'


def _clone(tmp_path, config_url=OLD, line=LINE):
    """A small git repository laid out like this one: config, a chapter pair, a student notebook, README."""
    (tmp_path / "book").mkdir()
    (tmp_path / "student").mkdir()
    (tmp_path / "_config.yml").write_text(
        f"title: x\nrepository:\n  url: {config_url}\n  branch: main\nlaunch_buttons:\n  colab_url: y\n")
    (tmp_path / "book" / "01_x.md").write_text(f"# x\n\n```python\n{line}\n```\n")
    notebook = {"cells": [{"cell_type": "code", "source": [line]}]}
    for path in (tmp_path / "book" / "01_x.ipynb", tmp_path / "student" / "01_x.ipynb"):
        path.write_text(json.dumps(notebook))
    (tmp_path / "README.md").write_text(f"Colab runs\n\n    {line}\n\nand the book is at {OLD}.\n"
                                        "(The line reads `ldc @ git+URL@main`: a placeholder, no address.)\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    return tmp_path


def test_this_repository_names_one_address_everywhere():
    assert repository.mismatches() == []
    assert repository.configured().startswith("https://")
    found = [path for path in repository.files() if "ldc @ git+" in path.read_text()]
    # every chapter and its notebook, every student notebook, the README
    assert len([p for p in found if p.parent.name == "book" and p.suffix == ".md"]) >= 8
    assert len([p for p in found if p.parent.name == "student"]) >= 8


def test_set_moves_every_install_line_and_the_config_and_keeps_the_pair_equal(tmp_path):
    root = _clone(tmp_path)
    changed = repository.set_repository(NEW + ".git/", root)
    assert sorted(map(str, changed)) == sorted(
        ["README.md", "_config.yml", "book/01_x.ipynb", "book/01_x.md", "student/01_x.ipynb"])
    assert repository.configured(root) == NEW
    assert repository.mismatches(root) == []
    for path in changed:
        assert f"git+{OLD}@" not in (root / path).read_text()
    # the pair's code is the same text after the move
    cell = json.loads((root / "book" / "01_x.ipynb").read_text())["cells"][0]["source"][0]
    assert cell in (root / "book" / "01_x.md").read_text()
    # prose that names the old address outside an install line is left alone
    assert f"the book is at {OLD}" in (root / "README.md").read_text()
    assert repository.set_repository(NEW, root) == []  # already there: nothing to do


def test_check_names_a_stray_install_line_and_set_refuses_until_it_is_mended(tmp_path, capsys):
    root = _clone(tmp_path)
    stray = root / "book" / "01_x.md"
    stray.write_text(stray.read_text().replace(OLD, "https://github.com/third/ldc"))
    assert repository.mismatches(root) == [(Path("book/01_x.md"), "https://github.com/third/ldc")]
    with pytest.raises(SystemExit, match="mend them first"):
        repository.set_repository(NEW, root)
    assert repository.main(["check"], root) == 1
    assert "book/01_x.md: installs ldc from https://github.com/third/ldc" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["github.com/a/b", "https://github.com/a", "https://github.com/a/b c", ""])
def test_set_refuses_what_is_not_a_repository_address(tmp_path, url):
    root = _clone(tmp_path)
    with pytest.raises(SystemExit, match="expected a repository address"):
        repository.set_repository(url, root)
    assert repository.configured(root) == OLD
