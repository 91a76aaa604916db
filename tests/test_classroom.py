"""The exercises as a teacher uses them: nbgrader assignments, the student edition's sources, grading.

The fast tests read the chapters; the integration test generates the
assignments and autogrades three submissions per chapter with nbgrader
(quick mode): the model answers, the untouched student notebooks, and a
notebook with a planted wrong answer for every gradable exercise.
"""
import copy
import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from classroom import course as classroom
from tests.wrong_answers import ALSO_WRONG, WRONG

ROOT = Path(__file__).resolve().parents[1]

CHAPTERS = classroom.chapter_sources(ROOT)
EXERCISES = {chapter.stem: classroom.exercises(chapter.read_text(), chapter.stem) for chapter in CHAPTERS}
GRADABLE = [e for found in EXERCISES.values() for e in found if e.gradable]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_each_chapter_has_two_to_four_exercises_at_least_two_of_them_graded(chapter):
    found = EXERCISES[chapter.stem]
    assert 2 <= len(found) <= 4
    assert sum(e.gradable for e in found) >= 2
    assert len({e.label for e in found}) == len(found)
    for exercise in found:
        assert exercise.solution_text or exercise.solution_code, f"{exercise.label} has no model answer"
        if exercise.gradable:
            assert exercise.graded, f"{exercise.label}: a graded exercise needs a # Graded block"
            assert "assert" in exercise.checks


def test_every_gradable_exercise_has_a_planted_wrong_answer():
    assert sorted(WRONG) == sorted(e.label for e in GRADABLE)
    for exercise in GRADABLE:
        assert WRONG[exercise.label].strip() != exercise.solution_code.strip()


def test_the_classroom_is_its_own_package_outside_the_wheel_readers_install(tmp_path):
    """Colab's first cell pip-installs this repository: a reader gets ldc, not the grader; ldc never imports it."""
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("ldc-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if ".dist-info" not in name}
    assert tops == {"ldc"}, tops
    for module in (ROOT / "ldc").glob("*.py"):
        assert not re.search(r"^\s*(from|import) classroom", module.read_text(), re.M), module.name


def test_parsing_refuses_an_exercise_without_its_solution():
    text = "````{exercise} Lonely\n:label: ex-lonely\n\nA question.\n````\n"
    with pytest.raises(classroom.ClassroomError, match="ex-lonely has no {solution}"):
        classroom.exercises(text, "a chapter")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_the_student_sources_keep_the_questions_and_their_checks_but_no_solution(chapter):
    text = classroom.without_solutions(chapter.read_text())
    assert "{solution}" not in text
    for exercise in EXERCISES[chapter.stem]:
        assert f":label: {exercise.label}" in text
        if exercise.gradable:
            assert exercise.checks in text  # the visible checks stay


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_the_student_edition_keeps_every_code_cell_byte_for_byte(chapter):
    """Its chapters hit the teacher edition's execution cache only if their code cells are the very same."""
    import jupytext

    def code_cells(text):
        notebook = jupytext.reads(text, fmt="md:myst")
        return [(cell.source, dict(cell.metadata)) for cell in notebook.cells if cell.cell_type == "code"]

    text = chapter.read_text()
    assert code_cells(classroom.without_solutions(text)) == code_cells(text)


def test_the_student_sources_and_committed_student_notebooks_hold_no_solution_line(tmp_path):
    out = classroom.student_book(tmp_path / "src", ROOT)
    hits, _, files = classroom.leaks([out], ROOT)
    appendices = classroom.appendix_sources(ROOT)
    # the pages, the intro, the student notebooks; an appendix's page and notebook
    assert files == 2 * len(CHAPTERS) + 1 + 2 * len(appendices) and hits == []


def test_the_committed_student_notebooks_hold_no_solution_line():
    hits, searched, files = classroom.leaks([ROOT / "student"], ROOT)
    assert files == len(CHAPTERS) + len(classroom.appendix_sources(ROOT)) and searched > 100
    assert hits == []


def test_the_leak_search_finds_a_solution_line(tmp_path):
    exercise = GRADABLE[0]
    line = next(line for line in exercise.solution_lines() if "=" in line)
    (tmp_path / "page.html").write_text(f"<pre><span>{line[:10]}</span>{line[10:]}</pre>")
    hits, _, _ = classroom.leaks([tmp_path], ROOT)
    assert len(hits) == 1 and exercise.label in hits[0]


def test_a_source_notebook_has_answer_and_check_cells_per_exercise():
    notebook = classroom.source_notebook(CHAPTERS[0], 1)
    cells = {cell["id"]: cell for cell in notebook["cells"]}
    assert len(cells) == len(notebook["cells"]), "cell ids are unique"
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "google.colab" in "".join(first["source"]), "the Colab install cell stays the first code cell"
    for exercise in EXERCISES[CHAPTERS[0].stem]:
        answer = cells[f"{exercise.label}-answer"]
        assert answer["metadata"]["nbgrader"]["solution"] is True
        assert "### BEGIN SOLUTION" in answer["source"]
        if exercise.gradable:
            checks = cells[f"{exercise.label}-checks"]["metadata"]["nbgrader"]
            assert checks["grade"] is True and checks["points"] == classroom.POINTS and checks["locked"]


def test_the_student_edition_hides_solutions_and_opens_student_notebooks(tmp_path):
    import yaml

    out = classroom.student_book(tmp_path / "src", ROOT)
    config = yaml.safe_load((out / "_config.yml").read_text())
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert config["sphinx"]["config"]["html_copy_source"] is False
    toc = yaml.safe_load((out / "_toc.yml").read_text())
    pages = CHAPTERS + classroom.appendix_sources(ROOT)
    assert [entry["file"] for entry in toc["chapters"]] == [f"student/{c.stem}" for c in pages]
    for chapter in pages:
        assert (ROOT / "student" / f"{chapter.stem}.ipynb").is_file(), "the Colab button's notebook is committed"
        assert "{solution}" not in (out / "student" / chapter.name).read_text()


def _check_cells(course, name, student):
    """Return each check cell of an autograded notebook: what it printed, and its error (name, message) or None."""
    path = course / "autograded" / student / name / f"{name}.ipynb"
    found = {}
    for cell in json.loads(path.read_text())["cells"]:
        if not cell.get("id", "").endswith("-checks"):
            continue
        outputs = cell.get("outputs", [])
        said = "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
        errors = [(o["ename"], o["evalue"]) for o in outputs if o.get("output_type") == "error"]
        found[cell["id"]] = {"said": said, "error": errors[0] if errors else None}
    return found


def _submission(release, answers):
    """A released notebook with the answer cells named in ``answers`` (label -> code) filled in."""
    notebook = copy.deepcopy(release)
    for cell in notebook["cells"]:
        label = cell.get("id", "").removesuffix("-answer")
        if cell.get("id", "").endswith("-answer") and label in answers:
            cell["source"] = answers[label]
    return notebook


@pytest.mark.integration
# A hang guard only: the grader bounds each notebook itself (classroom/grading.py LIMITS). Up to 36 notebooks run
# top to bottom; on CI's two cores, shared with the other stack's chain, that took 30 minutes and more.
@pytest.mark.timeout(5400)
def test_the_autograder_gives_solutions_full_marks_blanks_and_planted_mistakes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LDC_QUICK", "1")
    # The model answers are graded on both stacks (their numbers are the stack's). The blank and planted
    # submissions test the checks and the grader, the same code on both: the pinned stack grades them,
    # and the modern stack's make test saves their two to three runs of every chapter (about 6 minutes).
    from ldc.backends import tfc_installed

    every_submission = tfc_installed()
    course = tmp_path / "course"
    classroom.build_assignments(course, tmp_path / "student", ROOT)
    for chapter in CHAPTERS:
        name = chapter.stem
        release = json.loads((course / "release" / name / f"{name}.ipynb").read_text())
        # The committed student notebook is this very release (make test's sync check keeps it so).
        assert release == json.loads((ROOT / "student" / f"{name}.ipynb").read_text())
        solved = {e.label: e.solution_code for e in EXERCISES[name] if e.solution_code}
        wrong = {**solved, **{e.label: WRONG[e.label] for e in EXERCISES[name] if e.gradable}}
        submissions = [("solutions", _submission(release, solved))]
        if every_submission:
            submissions += [("blank", release), ("planted", _submission(release, wrong))]
        also = {e.label: ALSO_WRONG[e.label] for e in EXERCISES[name] if e.label in ALSO_WRONG}
        if also and every_submission:
            submissions.append(("planted-2", _submission(release, {**wrong, **also})))
        for student, notebook in submissions:
            folder = tmp_path / "submissions" / student
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.ipynb").write_text(json.dumps(notebook))
    with capsys.disabled():  # a line per notebook as it is graded, not all of them at the end
        print()
        rows = classroom.grade(tmp_path / "submissions", course, tmp_path / "grades.csv", ROOT)
    planted_twice = {e.chapter for found in EXERCISES.values() for e in found if e.label in ALSO_WRONG}
    if not every_submission:
        planted_twice = set()
    assert len(rows) == (3 if every_submission else 1) * len(CHAPTERS) + len(planted_twice)
    for chapter in CHAPTERS:  # the model answers run without a single error, chapter cells included
        graded = json.loads((course / "autograded" / "solutions" / chapter.stem / f"{chapter.stem}.ipynb").read_text())
        errors = [(cell.get("id"), output["ename"], output["evalue"][:200]) for cell in graded["cells"]
                  for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        assert errors == [], f"{chapter.stem}: the solutions notebook failed: {errors[:3]}"
    for chapter in CHAPTERS:
        name = chapter.stem
        graded = [e for e in EXERCISES[name] if e.gradable]
        students = ["solutions"] + (["blank", "planted"] if every_submission else []) + (
            ["planted-2"] if name in planted_twice else [])
        scores = {student: classroom.exercise_scores(course, name, student) for student in students}
        cells = {student: _check_cells(course, name, student) for student in students}
        for exercise in graded:
            cell = f"{exercise.label}-checks"
            assert scores["solutions"][cell] == (classroom.POINTS, classroom.POINTS), f"{name} {cell}"
            assert cells["solutions"][cell]["said"].startswith("Checks passed"), \
                f"{name} {cell}: a right answer should be confirmed, not met with silence"
            if every_submission:
                assert scores["blank"][cell][0] == 0, f"{name} {cell}: an untouched notebook scored"
            for student in students[2:]:
                if student == "planted-2" and exercise.label not in ALSO_WRONG:
                    continue
                assert scores[student][cell][0] == 0, f"{name} {cell}: the {student} wrong answer scored"
                error = cells[student][cell]["error"]
                # Visible checks say what is wrong; the hidden ones are bare asserts.
                assert error and error[0] == "AssertionError" and error[1], \
                    f"{name} {cell}: the {student} mistake passed every visible check ({error})"
                print(f"{exercise.label} ({student}): {error[1]}")
    by = {(row["student_id"], row["assignment"]): float(row["score"]) for row in rows}
    for chapter in CHAPTERS:
        points = classroom.POINTS * sum(e.gradable for e in EXERCISES[chapter.stem])
        assert by["solutions", chapter.stem] == points
        if every_submission:
            assert by["blank", chapter.stem] == 0 and by["planted", chapter.stem] == 0


# --- submissions that try to game or break the grading ---------------------------------------------

CHEATED = "03_quantization_and_priors"  # two graded exercises, and quick to run


def _answers(name, **replaced):
    """The model answers of chapter ``name``, with some replaced (label -> code)."""
    return {**{e.label: e.solution_code for e in EXERCISES[name] if e.solution_code}, **replaced}


def _hostile_submissions(release, course, marker):
    """(student, notebook bytes, expected score or None, words the reason must hold) for each attempt."""
    name, answers = CHEATED, _answers(CHEATED)
    labels = [e.label for e in EXERCISES[name] if e.gradable]
    points = classroom.POINTS * len(labels)
    solved = _submission(release, answers)
    # Every answer cell blank, and the model answers written into the chapter cell before each of them.
    moved = copy.deepcopy(release)
    last_chapter_cell = None
    for cell in moved["cells"]:
        grading = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and not grading.get("grade") and not grading.get("solution"):
            last_chapter_cell = cell
        label = cell.get("id", "").removesuffix("-answer")
        if cell.get("id", "").endswith("-answer") and label in answers:
            last_chapter_cell["source"] += "\n" + answers[label]
    # Grade ids, points and locked flags changed.
    relabelled = copy.deepcopy(solved)
    for cell in relabelled["cells"]:
        grading = cell["metadata"].get("nbgrader")
        if grading:
            grading["grade_id"] = grading["grade_id"] + "-mine"
            grading["locked"] = False
            if grading.get("points"):
                grading["points"] = 100
    read_source = (
        "import glob, json\n"
        f"found = glob.glob({str(course)!r} + '/source/*/*.ipynb') + glob.glob('../../../source/*/*.ipynb')\n"
        "source = json.load(open(found[0]))\n"
        "for cell in source['cells']:\n"
        "    if 'BEGIN SOLUTION' in ''.join(cell['source']):\n"
        "        exec(''.join(cell['source']))\n")
    detached = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', '''\n"
        "import sqlite3, time, pathlib\n"
        f"# {marker}\n"
        "time.sleep(2)\n"
        f"pathlib.Path({str(course.parent / 'outside.txt')!r}).write_text('written')\n"
        f"db = sqlite3.connect({str(course / 'gradebook.db')!r})\n"
        "db.execute('update grade set manual_score = 100')\n"
        "db.commit()\n"
        "time.sleep(600)\n"
        "'''], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n")
    ignore_interrupts = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
    # Checks in the kernel are the kernel's: numpy's comparisons patched, answers that equal anything...
    anything = (
        "import numpy as np\n"
        "np.isclose = np.allclose = np.array_equal = lambda *args, **kwargs: True\n"
        "class Anything(float):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __ne__ = lambda self, other: False\n"
        "    __lt__ = __le__ = __gt__ = __ge__ = __eq__\n"
        "    def __sub__(self, other):\n"
        "        return self\n"
        "    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __sub__\n"
        "    __truediv__ = __rtruediv__ = __sub__\n"
        "    __abs__ = __neg__ = lambda self: self\n"
        "    __hash__ = float.__hash__\n"
        + "".join(f"{name} = Anything(1.0)\n" for name in ("untrained_bits", "trained_bits", "vae_lmbda"))
        # ex-rounding-error's answers are arrays: shaped right, and wrong, which the patched numpy hides
        + "error = np.zeros_like(y)\ncorrelation = np.zeros(model.latent_dims)\n")
    # ... or every assert removed before it runs, and the honest mistakes kept.
    no_asserts = (
        "import ast\n"
        "class NoAsserts(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n"
        "        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(NoAsserts())\n")
    wrong = {label: WRONG[label] for label in labels}
    swallow = "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
    no_checks = copy.deepcopy(solved)
    no_checks["cells"] = [cell for cell in no_checks["cells"] if not cell.get("id", "").endswith("-checks")]
    return [
        ("solutions", solved, points, None),
        ("chapter-cells-edited", moved, 0, "set back to the release"),
        ("metadata-changed", relabelled, points, "set back"),
        ("reads-the-source", _submission(release, {**answers, labels[0]: read_source}), points - 1, None),
        ("detached-writer", _submission(release, {**answers, labels[0]: detached + answers[labels[0]]}),
         points, None),
        ("exits", _submission(release, {**answers, labels[0]: "import os\nos._exit(0)"}), 0, "kernel died"),
        # In its own process namespace the kernel's parent is the namespace's init, which ignores the signal.
        ("kills-its-parent", _submission(release, {**answers, labels[0]: "import os, signal\n"
                                                    "os.kill(os.getppid(), signal.SIGKILL)"}), points - 1, None),
        ("allocates-20-gib", _submission(release, {**answers, labels[0]: "hog = bytearray(20 * 2**30)"}),
         points - 1, None),
        ("ignores-interrupts", _submission(release, {**answers, labels[-1]: ignore_interrupts}), 0, "timed out"),
        ("not-a-notebook", b"\x89PNG not a notebook", 0, "not a notebook"),
        ("patches-numpy-answers-equal-anything",
         _submission(release, {labels[0]: anything, labels[1]: "pass"}), 0, "not plain data"),
        ("strips-asserts", _submission(release, {**wrong, labels[0]: no_asserts + wrong[labels[0]]}),
         0, "not the model answer's"),
        ("swallows-errors", _submission(release, {**wrong, labels[0]: swallow + wrong[labels[0]]}),
         0, "not the model answer's"),
        ("deletes-its-check-cells", no_checks, points, "set back to the release"),
    ]


@pytest.mark.integration
@pytest.mark.sandbox
@pytest.mark.timeout(5400)  # a hang guard only, as above
def test_no_submission_games_or_breaks_the_grading(tmp_path, monkeypatch, capsys):
    """Each attempt gets a row and a score in grades.csv, the honest ones keep theirs, and none reaches the
    course: the kernel runs in bubblewrap's sandbox (the setup installs it), so the test needs it."""
    from classroom import grading

    missing = grading.bwrap_missing()
    assert missing is None, f"this test needs bubblewrap's sandbox: {missing}"
    monkeypatch.setenv("LDC_QUICK", "1")
    course = tmp_path / "course"
    classroom.build_assignments(course, tmp_path / "student", ROOT)
    release = json.loads((course / "release" / CHEATED / f"{CHEATED}.ipynb").read_text())
    marker = f"ldc-grading-test-{os.getpid()}"
    attempts = _hostile_submissions(release, course, marker)
    folder = tmp_path / "submissions"
    for student, notebook, _, _ in attempts:
        (folder / student).mkdir(parents=True)
        data = notebook if isinstance(notebook, bytes) else json.dumps(notebook).encode()
        (folder / student / f"{CHEATED}.ipynb").write_bytes(data)
    with capsys.disabled():
        print()
        classroom.grade(folder, course, tmp_path / "grades.csv", ROOT, limits=(60, 150))
    with open(tmp_path / "grades.csv", newline="") as stream:
        written = list(csv.DictReader(stream))
    assert sorted(row["student_id"] for row in written) == sorted(student for student, *_ in attempts)
    by = {row["student_id"]: row for row in written}
    for student, _, score, reason in attempts:
        row = by[student]
        assert float(row["score"]) == score, f"{student}: scored {row['score']} ({row['reason']})"
        if reason:
            assert reason in row["reason"], f"{student}: the reason {row['reason']!r} does not say {reason!r}"
        assert "\n" not in row["reason"]
    assert not (tmp_path / "outside.txt").exists(), "a submission wrote outside its sandbox"
    # The cheats pass every check in their own kernel (nbgrader's score), and earn nothing outside it.
    for student in ("patches-numpy-answers-equal-anything", "strips-asserts"):
        in_kernel = _check_cells(course, CHEATED, student)
        assert all(cell["error"] is None for cell in in_kernel.values()), f"{student}: {in_kernel}"
    assert by["detached-writer"]["score"] == by["solutions"]["score"]  # the gradebook was not reached
    assert classroom.exercise_scores(course, CHEATED, "detached-writer") == \
        classroom.exercise_scores(course, CHEATED, "solutions")
    survivors = [p for p in Path("/proc").glob("[0-9]*/cmdline")
                 if marker.encode() in _read_or_empty(p)]
    assert not survivors, "a process a submission started outlived its grading"
    # Without bubblewrap: the same limits and restoring, and the run goes on past a dead kernel.
    plain = tmp_path / "plain"
    for student, notebook, _, _ in attempts:
        if student in ("solutions", "exits", "chapter-cells-edited"):
            (plain / student).mkdir(parents=True)
            (plain / student / f"{CHEATED}.ipynb").write_text(json.dumps(notebook))
    with capsys.disabled():
        rows = classroom.grade(plain, course, tmp_path / "plain.csv", ROOT, sandbox="folder", limits=(60, 150))
    assert {row["student_id"]: (row["score"], bool(row["reason"])) for row in rows} == {
        "solutions": (float(by["solutions"]["score"]), False),
        "exits": (0.0, True), "chapter-cells-edited": (0.0, True)}


def _read_or_empty(path):
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_a_submission_is_graded_as_the_release_with_only_its_answers_taken():
    from classroom import grading

    name = CHEATED
    release = classroom.source_notebook(ROOT / "book" / f"{name}.md", 1)
    answer = next(c for c in release["cells"] if c["id"].endswith("-answer"))
    chapter = next(c for c in release["cells"] if c["cell_type"] == "code"
                   and c["metadata"]["nbgrader"] == {**c["metadata"]["nbgrader"], "locked": True, "grade": False})
    submitted = copy.deepcopy(release)
    for cell in submitted["cells"]:
        if cell["id"] == answer["id"]:
            cell["source"] = ["my = 1\n", "answer = 2\n"]  # a list of lines, as Jupyter saves them
            cell["id"] = "renamed"  # found by its grade id instead
        elif cell["id"] == chapter["id"]:
            cell["source"] = "everything = None"
        elif cell.get("metadata", {}).get("nbgrader", {}).get("points"):
            cell["metadata"]["nbgrader"]["points"] = 100
    submitted["cells"] += [{"cell_type": "code", "id": "extra", "metadata": {}, "source": "x = 1", "outputs": []},
                           "not a cell", {"metadata": "not a dict"}]
    graded, notes = grading.restored(release, submitted)
    by_id = {cell["id"]: cell for cell in graded["cells"]}
    assert [cell["id"] for cell in graded["cells"]] == [cell["id"] for cell in release["cells"]]
    assert by_id[answer["id"]]["source"] == "my = 1\nanswer = 2\n"
    assert by_id[chapter["id"]]["source"] == chapter["source"]
    assert all(cell["metadata"] == original["metadata"] for cell, original in zip(graded["cells"], release["cells"]))
    assert len(notes) == 1 and "set back to the release" in notes[0]
    assert grading.restored(release, {"cells": "nothing"})[0] == release
    assert grading.restored(release, release) == (release, [])
