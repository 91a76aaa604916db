"""The chapters' exercises for a classroom: nbgrader assignments, the student edition, grading, leak search.

    python -m classroom assignments [--course _build/course] [--student student]
    python -m classroom student-book OUT [--cache TEACHER_BOOK/_build/.jupyter_cache]
    python -m classroom grade SUBMISSIONS [--course _build/course] [--csv grades.csv] [--sandbox bwrap|folder]
    python -m classroom leaks PATH [PATH ...]

One source: each chapter's exercises are sphinx-exercise directives in its
``.md`` (paired with the committed ``.ipynb``)::

    ````{exercise} A title
    :label: ex-name

    The question. A gradable one names what to define and shows its checks:

    ```python
    # Checks
    assert ...
    ```
    ````

    ````{solution} ex-name
    :class: dropdown

    ```python
    the model answer (the first python block)
    ```

    Prose.

    ```python
    # Graded
    name_the_answer_defines
    a_function_it_defines(inputs_the_checker_makes)
    ```
    ````

The ``# Graded`` block decides the score, outside the student's kernel
(``classroom/grading.py``): each expression line is an answer handed out of the
notebook as plain data (a name the answer defines) or a function's result on
the checker's inputs (a line that calls a function the answer defines, or
uses a name the block assigns: computed in a fresh process with only the
answer cell's definitions), and each must equal what the model answer gives
in the same run: numbers within a relative 1e-4 (whole numbers exactly),
arrays of the same shape, strings, lists and dicts item by item.

``assignments`` turns each chapter's notebook into an nbgrader source
notebook (the chapter's cells, locked, then per exercise: the question, an
answer cell holding the model answer between nbgrader's solution markers,
and for a gradable exercise a locked test cell: the hidden hand-out of the
graded answers, then the visible checks, which give feedback), runs
``nbgrader generate_assignment``, and copies the released student notebooks
to ``student/`` (committed: the Colab links of the student edition open
them). ``student-book`` writes the student edition's sources: the chapters
without their ``{solution}`` blocks, a configuration with solutions hidden
and no copied sources, and launch buttons that open ``student/``.
``grade`` autogrades a folder of submitted notebooks, each on its own and
shut off from the course (``classroom/grading.py``), and writes a CSV.
``leaks`` searches files for any line of any solution.
"""
import argparse
import ast
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r"^````\{(exercise|solution)\}[ \t]*([^\n]*)\n(.*?)^````[ \t]*\n?", re.S | re.M)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```[ \t]*\n?", re.S | re.M)
VISIBLE, GRADED = "# Checks", "# Graded"
POINTS = 1  # per gradable exercise
SCHEMA = 3  # nbgrader's cell metadata schema
IGNORED = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]  # a jupytext twin would leak
ANSWER_NOTE = "*Your answer (read by your teacher, not graded automatically):*"


class GradedItem(NamedTuple):
    """One statement of an exercise's ``# Graded`` block, as the grader runs it."""

    key: str | None  # the answer's key ("0", "1", ...); None: a statement that makes the checker's inputs
    source: str
    fresh: bool  # computed in a fresh process from the answer cell's definitions, not read from the kernel


class ClassroomError(Exception):
    """A chapter's exercises or a submission folder that cannot be used, with what is wrong."""


@dataclass
class Exercise:
    """One exercise of a chapter, with its solution; ``checks`` is None for an open-ended one."""

    chapter: str
    number: int
    label: str
    title: str
    prompt: str  # the question's markdown, without its checks block
    checks: str | None
    solution_code: str | None
    solution_text: str  # the solution's markdown, without its code blocks
    graded: str | None  # the ``# Graded`` block

    @property
    def gradable(self):
        return self.checks is not None

    def items(self):
        """The graded items, a list of :class:`GradedItem` in the block's order.

        Also the block's other statements, as (None, source, True): they make
        the checker's inputs before the items after them.
        """
        tree = ast.parse(self.graded)
        defined = {node.name for node in ast.parse(self.solution_code).body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        made = {target.id for node in tree.body if isinstance(node, ast.Assign)
                for target in ast.walk(node) if isinstance(target, ast.Name)}
        steps, key = [], 0
        for node in tree.body:
            source = ast.get_source_segment(self.graded, node)
            if not isinstance(node, ast.Expr):
                steps.append(GradedItem(None, source, True))
                continue
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            steps.append(GradedItem(str(key), source, bool(names & (defined | made))))
            key += 1
        return steps

    def solution_lines(self):
        """Every line a student must not see: the model answer, the graded block and the prose."""
        code = "\n".join(filter(None, [self.solution_code, self.graded]))
        lines = [line.strip() for line in code.splitlines()]
        prose = " ".join(self.solution_text.split())
        sentences = [s.strip() for s in re.split(r"(?<=[.:!?])\s+", prose)]
        return [line for line in lines + sentences if len(line) >= 20 and not line.startswith("#")]


def _options(body):
    """Split a directive's body into its ``:name: value`` options and the rest."""
    lines = body.splitlines()
    options = {}
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        name, _, value = lines.pop(0)[1:].partition(":")
        options[name] = value.strip()
    return options, "\n".join(lines).strip("\n")


def _split_blocks(text, marker):
    """Return (text without the python blocks that start with ``marker``, those blocks' code joined)."""
    found = []

    def take(match):
        code = match.group(1)
        if code.lstrip().startswith(marker):
            found.append(code.strip("\n"))
            return ""
        return match.group(0)

    rest = PYTHON_BLOCK.sub(take, text)
    return re.sub(r"\n{3,}", "\n\n", rest).strip("\n"), ("\n".join(found) if found else None)


def exercises(text, chapter="chapter"):
    """Return the exercises of one chapter's markdown, in order, each paired with its solution."""
    found, solutions = [], {}
    for kind, argument, body in DIRECTIVE.findall(text):
        options, content = _options(body)
        if kind == "exercise":
            if "label" not in options:
                raise ClassroomError(f"{chapter}: exercise {argument!r} has no :label:")
            prompt, checks = _split_blocks(content, VISIBLE)
            found.append((options["label"], argument.strip(), prompt, checks))
        else:
            label = argument.strip()
            if label in solutions:
                raise ClassroomError(f"{chapter}: two solutions for {label}")
            solutions[label] = content
    result = []
    for number, (label, title, prompt, checks) in enumerate(found, start=1):
        if label not in solutions:
            raise ClassroomError(f"{chapter}: exercise {label} has no {{solution}}")
        text_without_graded, graded = _split_blocks(solutions.pop(label), GRADED)
        codes = PYTHON_BLOCK.findall(text_without_graded)
        prose = PYTHON_BLOCK.sub("", text_without_graded)
        if checks is not None and not codes:
            raise ClassroomError(f"{chapter}: gradable exercise {label} has no model answer (a python block)")
        if (graded is None) != (checks is None):
            raise ClassroomError(f"{chapter}: exercise {label} needs both a visible '{VISIBLE}' block and a "
                                 f"'{GRADED}' block, or neither")
        exercise = Exercise(chapter, number, label, title, prompt, checks, codes[0].strip("\n") if codes else None,
                            re.sub(r"\n{3,}", "\n\n", prose).strip(), graded)
        if graded is not None:
            try:
                items = exercise.items()
            except SyntaxError as err:
                raise ClassroomError(f"{chapter}: the '{GRADED}' block of {label} is not Python: {err}") from err
            if not any(key is not None for key, _, _ in items):
                raise ClassroomError(f"{chapter}: the '{GRADED}' block of {label} names no answer")
        result.append(exercise)
    if solutions:
        raise ClassroomError(f"{chapter}: solutions without an exercise: {sorted(solutions)}")
    return result


def _toc_pages(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [root / f"{entry['file']}.md" for entry in toc["chapters"]]


def chapter_sources(root=ROOT):
    """Return the chapter ``.md`` files listed in ``_toc.yml`` (``book/NN_*.md``, with exercises), in order."""
    return [page for page in _toc_pages(root) if re.match(r"\d\d_", page.name)]


def appendix_sources(root=ROOT):
    """Return the other pages of ``_toc.yml`` (appendices: no exercises, the same in both editions)."""
    return [page for page in _toc_pages(root) if not re.match(r"\d\d_", page.name)]


def without_solutions(text):
    """Return a chapter's markdown with every ``{solution}`` directive removed, and nothing else changed.

    The code cells stay byte for byte as they are (blank lines too), so the
    student edition's chapters hit the teacher edition's execution cache.
    """
    return DIRECTIVE.sub(lambda m: "" if m.group(1) == "solution" else m.group(0), text)


# --- nbgrader source notebooks -------------------------------------------------------------------


def _cell(kind, source, cell_id, **grading):
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if grading:
        cell["metadata"]["nbgrader"] = {"schema_version": SCHEMA, "task": False, "grade_id": cell_id, **grading}
    return cell


def _exercise_cells(exercise, number):
    name = f"Exercise {number}"
    cells = [_cell("markdown", f"### {name}: {exercise.title}\n\n{exercise.prompt}", f"{exercise.label}-question")]
    if exercise.solution_code is not None:
        cells.append(_cell("code", f"### BEGIN SOLUTION\n{exercise.solution_code}\n### END SOLUTION",
                           f"{exercise.label}-answer", solution=True, grade=False, locked=False))
    if exercise.gradable:
        checks = f"### BEGIN HIDDEN TESTS\n{hand_out_code(exercise)}\n### END HIDDEN TESTS\n{exercise.checks}"
        cells.append(_cell("code", checks, f"{exercise.label}-checks",
                           solution=False, grade=True, locked=True, points=POINTS))
    else:
        cells.append(_cell("markdown", ANSWER_NOTE, f"{exercise.label}-your-answer"))
    return cells


def hand_out_code(exercise):
    """The hidden start of an exercise's check cell: it hands the graded answers out of the kernel as data."""
    items = "".join(f"\n        {key!r}: lambda: ({source}),"
                    for key, source, fresh in exercise.items() if key is not None and not fresh)
    return ("try:  # the grader puts ldc_handout (classroom/handout.py) on the kernel's path\n"
            "    from ldc_handout import hand_out as _hand_out\n"
            "except ImportError:  # not being graded\n"
            "    _hand_out = None\n"
            "if _hand_out:\n"
            f"    _hand_out({exercise.label!r}, {{{items}\n    }})")


def _locked(cell):
    """A chapter cell, locked: nbgrader restores it if a student changes it (grading restores it anyway)."""
    cell.setdefault("metadata", {})["nbgrader"] = {"schema_version": SCHEMA, "grade": False, "solution": False,
                                                   "locked": True, "grade_id": f"chapter-{cell['id']}"}
    return cell


def source_notebook(chapter_md, first_number):
    """Return the nbgrader source notebook of one chapter (a dict): its paired .ipynb, exercises made cells.

    Exercises are numbered from ``first_number`` on, as the book numbers them (through the whole book).
    """
    notebook = json.loads(chapter_md.with_suffix(".ipynb").read_text())
    found = exercises(chapter_md.read_text(), chapter_md.stem)
    by_label = {exercise.label: exercise for exercise in found}
    cells = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or not DIRECTIVE.search(source):
            cells.append(_locked(cell))
            continue
        position, piece = 0, 0
        for match in DIRECTIVE.finditer(source):
            before = source[position:match.start()].strip("\n")
            if before.strip():
                cells.append(_locked(_cell("markdown", before, f"{cell['id']}-{piece}")))
                piece += 1
            if match.group(1) == "exercise":
                label = _options(match.group(3))[0]["label"]
                cells.extend(_exercise_cells(by_label[label], first_number + by_label[label].number - 1))
            position = match.end()
        after = source[position:].strip("\n")
        if after.strip():
            cells.append(_locked(_cell("markdown", after, f"{cell['id']}-{piece}")))
    notebook["cells"] = cells  # the notebook was read for this call alone
    return notebook


def _nbgrader(course, *args):
    """Run an nbgrader command in ``course`` with this Python's tools on PATH; raise with its output on failure."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run([str(Path(bin_dir) / "nbgrader"), *args], cwd=course, env=env,
                            capture_output=True, text=True)
    errors = [line for line in result.stderr.splitlines() if "| ERROR]" in line]
    if result.returncode != 0 or errors:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise ClassroomError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n{tail}")
    return result


def write_config(course):
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "# Written by python -m classroom: the course folder of the ldc assignments.\n"
        "c = get_config()\n"
        'c.CourseDirectory.course_id = "ldc"\n'
        f"c.CourseDirectory.root = {str(course.resolve())!r}\n"
        f"c.CourseDirectory.ignore = {IGNORED!r}\n"
        "c.Execute.timeout = 1800  # seconds per cell: a full-mode chapter may train a model\n"
        "# A wrong answer does not stop the later checks: nbgrader's Execute always allows errors\n"
        "# (its allow_errors is fixed to True, not a setting).\n"
    )


def build_assignments(course, student_dir, root=ROOT):
    """Write the nbgrader course (source notebooks, released ones) and the student notebooks; return their paths."""
    write_config(course)
    written, first = [], 1
    for chapter in chapter_sources(root):
        name = chapter.stem
        folder = course / "source" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / f"{name}.ipynb").write_text(json.dumps(source_notebook(chapter, first), indent=1,
                                                         ensure_ascii=False) + "\n")
        first += len(exercises(chapter.read_text(), name))
        _nbgrader(course, "generate_assignment", name, "--force")
        student_dir.mkdir(parents=True, exist_ok=True)
        target = student_dir / f"{name}.ipynb"
        shutil.copyfile(course / "release" / name / f"{name}.ipynb", target)
        written.append(target)
    # An appendix has no exercises: its notebook is released as it is, for the student edition's Colab button.
    for page in appendix_sources(root):
        student_dir.mkdir(parents=True, exist_ok=True)
        target = student_dir / f"{page.stem}.ipynb"
        shutil.copyfile(page.with_suffix(".ipynb"), target)
        written.append(target)
    return written


# --- the student edition -------------------------------------------------------------------------


def student_book(out, root=ROOT, student="student", cache=None):
    """Write the student edition's sources to ``out``: chapters without solutions, its own config and toc.

    ``cache``: the teacher edition's execution cache (same mode and Python).
    The chapters' code cells are the same in both editions (exercises are
    markdown), so the student edition reuses their executed outputs.
    """
    config = yaml.safe_load((root / "_config.yml").read_text())
    if cache is not None:
        config.setdefault("execute", {})["cache"] = str(Path(cache).resolve())
    config["title"] = f"{config['title']} (student edition)"
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["hide_solutions"] = True  # sphinx-exercise: no solution directive is rendered
    sphinx["html_copy_source"] = False  # no _sources/ copies of the pages
    config.setdefault("html", {})["use_download_button"] = False
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    rename = lambda entry: re.sub(r"^book/", f"{student}/", entry)  # noqa: E731
    toc["root"] = rename(toc["root"])
    for entry in toc["chapters"]:
        entry["file"] = rename(entry["file"])
    if out.exists():
        shutil.rmtree(out)
    (out / student).mkdir(parents=True)
    (out / "_config.yml").write_text("# Written by python -m classroom student-book: do not edit.\n"
                                     + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    (out / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    pages = [root / "book" / "intro.md", *chapter_sources(root), *appendix_sources(root)]
    for page in pages:
        (out / student / page.name).write_text(without_solutions(page.read_text()))
    # Beside each page its student notebook, as the chapters have their .ipynb twin: the launch buttons
    # link to the .ipynb of a page that has one (Sphinx itself skips **/*.ipynb).
    for chapter in pages[1:]:
        notebook = root / student / f"{chapter.stem}.ipynb"
        if not notebook.is_file():
            raise ClassroomError(f"{notebook} is missing: run `make assignments` (and commit {student}/)")
        shutil.copyfile(notebook, out / student / notebook.name)
    return out


# --- grading -------------------------------------------------------------------------------------


def grade(submissions, course, csv_path, root=ROOT, sandbox=None, limits=None, log=print):
    """Autograde ``submissions/<student>/<chapter>.ipynb``, each notebook on its own; write the grades CSV.

    Every notebook of the folder gets a row (student_id, assignment, score,
    max_score, reason): a notebook that cannot be graded (not a notebook,
    timed out, its kernel died) scores 0 and the reason says why; the CSV is
    written whatever the submissions do. ``sandbox``: 'bwrap' or 'folder'
    (default: the strongest this machine offers, see classroom/grading.py).
    ``limits``: (seconds per cell, seconds per notebook), by default per mode.
    """
    from classroom import grading

    names = [chapter.stem for chapter in chapter_sources(root)]
    if not (course / "gradebook.db").is_file() or not all((course / "release" / n).is_dir() for n in names):
        raise ClassroomError(f"{course} has no assignments yet: run `make assignments` first")
    if not submissions.is_dir():
        raise ClassroomError(f"{submissions} is not a folder of submissions (<student>/<chapter>.ipynb)")
    paths = sorted(submissions.glob("*/*.ipynb"))
    if not paths:
        raise ClassroomError(f"{submissions} holds no <student>/<chapter>.ipynb files")
    available = grading.sandboxes()  # probes bubblewrap once
    sandbox = sandbox or available[0]
    if sandbox not in available:
        raise ClassroomError(f"sandbox {sandbox!r} is not available here (available: {available})")
    from ldc.modes import mode_name  # LDC_QUICK read as ldc reads it (false is full mode, a typo an error)

    mode = mode_name()
    log(f"grade: {grading.describe(sandbox)}")
    _prepare_models(log)
    grading.become_subreaper()
    shutil.rmtree(course / "submitted", ignore_errors=True)
    graded = {chapter.stem: [e for e in exercises(chapter.read_text(), chapter.stem) if e.gradable]
              for chapter in chapter_sources(root)}
    references = {}
    run = _Run(course, submissions, graded, references, sandbox, mode, limits)
    for name in sorted({path.stem for path in paths} & set(names)):
        log(f"grade: {name}: running the model answers, the reference every answer is compared with")
        try:
            references[name] = grading.reference(course, submissions, name, graded[name], sandbox, mode, limits)
        except grading.GradingError as err:
            raise ClassroomError(str(err)) from err
    rows = []
    for done, path in enumerate(paths, 1):
        student, name = path.parent.name, path.stem
        row = {"student_id": student, "assignment": name, "score": 0.0, "max_score": 0.0, "reason": ""}
        rows.append(row)
        seconds = _grade_into(row, path, run)
        log(f"grade: [{done}/{len(paths)}] {student}/{name}: {row['score']:g} of {row['max_score']:g}"
            + (f" in {seconds:.0f} s" if seconds is not None else "")
            + (f" ({row['reason']})" if row["reason"] else ""))
    with open(csv_path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


@dataclass(frozen=True)
class _Run:
    """What every notebook of one :func:`grade` run is graded with."""

    course: Path
    submissions: Path
    graded: dict  # chapter -> its gradable exercises
    references: dict  # chapter -> the model answers' handed-out values
    sandbox: str
    mode: str
    limits: tuple | None


def _grade_into(row, path, run):
    """Grade one submitted notebook into its CSV ``row``; return the seconds it ran (None if it never ran).

    The score is the comparison of its handed-out answers with the reference's
    (classroom/grading.py), written to the gradebook as each check cell's manual
    score, so that nbgrader's own reports agree with the CSV.
    """
    from classroom import grading

    course, graded = run.course, run.graded
    student, name = row["student_id"], row["assignment"]
    if name not in graded:
        row["reason"] = f"not an assignment (they are {', '.join(graded)})"
        return None
    release = json.loads((course / "release" / name / f"{name}.ipynb").read_text())
    row["max_score"] = float(sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in release["cells"]))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", student):
        row["reason"] = "a student folder name may hold letters, digits, '_', '.', '-' only"
        return None
    try:
        submitted = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        row["reason"] = f"not a notebook ({str(err)[:80]})"
        return None
    notebook, notes = grading.restored(release, submitted)
    outcome = grading.grade_one(course, run.submissions, name, student, notebook, run.sandbox, run.mode, run.limits,
                                graded[name])
    per_exercise = {e.label: (0.0, None) for e in graded[name]}
    if outcome.reason is None:
        per_exercise = grading.scores(run.references[name], outcome.answers, graded[name], POINTS)
        row["score"] = float(sum(score for score, _ in per_exercise.values()))
    _record(course, name, student, per_exercise)
    wrong = [f"{label}: {why}" for label, (_, why) in per_exercise.items() if why]
    row["reason"] = "; ".join(filter(None, [outcome.reason, *notes, *wrong]))
    return outcome.seconds


def _record(course, assignment, student, per_exercise):
    """Write each exercise's score into the gradebook as its check cell's manual score (where nbgrader graded it)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{(course / 'gradebook.db').resolve()}") as gradebook:
        for label, (score, _) in per_exercise.items():
            try:
                grade = gradebook.find_grade(f"{label}-checks", assignment, assignment, student)
            except MissingEntry:
                continue
            grade.manual_score = score
        gradebook.db.commit()


def _prepare_models(log):
    """Every model the chapters load, in the cache before grading (a sandboxed kernel cannot store one)."""
    import ldc

    log("grade: the chapters' models: from the cache, else published, else trained now (full mode: minutes each)")
    prepared = ldc.experiments.prepare(ldc.experiments.book_configs(), log=lambda line: None)
    log(f"grade: models ready ({prepared.found} in the cache, {prepared.downloaded} downloaded, "
        f"{prepared.trained} trained)")


def exercise_scores(course, assignment, student):
    """Return ``{grade_id: (score, max_score)}`` of one autograded submission, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{(course / 'gradebook.db').resolve()}") as gradebook:
        submission = gradebook.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.score, g.max_score) for g in submission.grades}


# --- leak search ---------------------------------------------------------------------------------


def _normalized(text):
    return " ".join(text.split())


def _page_text(path):
    raw = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:
            raw = "\n".join("".join(cell.get("source", "")) for cell in json.loads(raw)["cells"])
        except (json.JSONDecodeError, KeyError, TypeError):
            pass
    elif path.suffix in (".html", ".htm"):
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return _normalized(raw)


def leaks(paths, root=ROOT):
    """Return ``(hits, lines searched, files searched)``: each hit names the file, exercise and line."""
    texts = {chapter: chapter.read_text() for chapter in chapter_sources(root)}
    # A line that the course shows outside its solutions (a question, another chapter) is no leak.
    shown = _normalized(" ".join(without_solutions(text) for text in texts.values()))
    needles = {}
    for chapter, text in texts.items():
        for exercise in exercises(text, chapter.stem):
            for line in exercise.solution_lines():
                key = _normalized(line)
                if key not in shown:
                    needles[key] = f"{chapter.stem} {exercise.label}"
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.rglob("*")))
             if p.is_file() and p.suffix in (".html", ".htm", ".ipynb", ".md", ".txt", ".js", ".json", ".py")]
    hits = []
    for path in files:
        text = _page_text(path)
        hits += [f"{path}: {where}: {needle!r}" for needle, where in needles.items() if needle in text]
    return hits, len(needles), len(files)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m classroom", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("assignments", help="nbgrader course and student notebooks from the chapters")
    made.add_argument("--course", type=Path, default=ROOT / "_build" / "course")
    made.add_argument("--student", type=Path, default=ROOT / "student")
    book = commands.add_parser("student-book", help="the student edition's sources")
    book.add_argument("out", type=Path)
    book.add_argument("--cache", type=Path, help="the teacher edition's execution cache, to reuse")
    graded = commands.add_parser("grade", help="autograde SUBMISSIONS/<student>/<chapter>.ipynb")
    graded.add_argument("submissions", type=Path)
    graded.add_argument("--course", type=Path, default=ROOT / "_build" / "course")
    graded.add_argument("--csv", type=Path, default=Path("grades.csv"))
    graded.add_argument("--sandbox", choices=["bwrap", "folder"],
                        help="how each notebook is shut off (default: the strongest available)")
    search = commands.add_parser("leaks", help="search files for solution lines")
    search.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "assignments":
            for path in build_assignments(args.course, args.student):
                print(f"assignments: {path}")
            print(f"assignments: the nbgrader course is {args.course}")
        elif args.command == "student-book":
            print(f"student-book: sources in {student_book(args.out, cache=args.cache)}")
        elif args.command == "grade":
            rows = grade(args.submissions, args.course, args.csv, sandbox=args.sandbox)
            print(f"grade: {len(rows)} notebooks of {len({row['student_id'] for row in rows})} students; "
                  f"grades in {args.csv}")
        else:
            hits, needles, files = leaks(args.paths)
            for hit in hits:
                print(f"LEAK {hit}")
            if hits:
                return f"leaks: {len(hits)} solution line(s) found in {files} files"
            print(f"leaks: none of {needles} solution lines appears in {files} files")
    except ClassroomError as err:
        return f"classroom: {err}"
    return 0

