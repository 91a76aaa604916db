"""Grading one submitted notebook so that it cannot reach the course, the others, or the grading itself.

``python -m classroom grade`` (:mod:`classroom.course`) calls :func:`grade_one` for each notebook of a
submissions folder. Each one

- is rebuilt from the released notebook: every cell comes from the release
  (so an edited chapter cell, a deleted check or changed grading metadata is
  undone), and only the answer cells (nbgrader's solution cells, and the
  markdown cells for written answers) are taken from the submission;
- runs in its own kernel, started by a kernelspec written for it alone: in a
  bubblewrap sandbox where ``bwrap`` runs (the whole file system read-only;
  the course, the submissions folder, the chapters with their solutions, the
  tools, the classroom package, the tests, ``_build/``, the home folder and ``/tmp`` replaced by empty
  folders; its own process namespace, so nothing it starts survives it), or,
  without bubblewrap, in an empty working folder of its own; in both under a
  memory limit (``prlimit --as``);
- has a time limit per cell (nbgrader's) and per notebook (this module's); when
  either runs out, or the kernel dies, the notebook scores 0 with a one-line
  reason, and every process it left behind is killed;
- is scored outside its kernel: the hidden start of each check cell hands the
  answers its exercise's ``# Graded`` block names out as plain data
  (classroom/handout.py); the lines that call a function the answer defines run
  afterwards in a fresh sandboxed process with only that answer cell's
  definitions; and this process, which the submission never touched, reads
  them back as JSON or numpy arrays (no pickle) and compares them with what
  the model answers gave in a reference run of the same chapter on the same
  machine (:func:`reference`, :func:`scores`). The visible checks still run
  in the kernel, for the student's feedback; they decide nothing.
"""
import ast
import copy
import ctypes
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "ldc-grading"
LIMITS = {"quick": (120, 900), "full": (1200, 3600)}  # seconds per cell, per notebook (full: ex. 10 trains)
MEMORY_GIB = 16  # address space of a kernel (TensorFlow alone maps about 3 GiB)
HIDDEN = ["book", "classroom", "tools", "tests", "student", "_build", ".git"]  # of the repository, in the sandbox
RTOL = ATOL = 1e-4  # how close a graded number must come to the model answer's
MAX_BYTES = 64 << 20  # the largest handed-out answer read back


class GradingError(Exception):
    """The course cannot be graded here (a model answer that does not hand out its answers), with why."""


@dataclass
class Outcome:
    """How one notebook's grading went: ``reason`` is None when it ran to the end.

    ``answers``: {exercise label: {key: value, or a :class:`Missing`}}, read back as plain data.
    """

    seconds: float
    reason: str | None
    answers: dict = field(default_factory=dict)


@dataclass
class Missing:
    """A graded answer that was not handed out, and why."""

    why: str


def sandboxes():
    """Return the protections this machine offers, strongest first: 'bwrap' (when it runs here), 'folder'."""
    return (["bwrap"] if bwrap_missing() is None else []) + ["folder"]


def bwrap_missing():
    """None when bubblewrap runs here; else why not (one line)."""
    if not shutil.which("bwrap"):
        return "bwrap is not installed (Debian: apt-get install bubblewrap; `make setup` does it)"
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bwrap does not run here: {' '.join(probe.stderr.split())[:200]} (user namespaces disabled?)"
    return None


def describe(sandbox):
    if sandbox == "bwrap":
        return ("each notebook runs in a bubblewrap sandbox: read-only files, no course, solutions, "
                "gradebook or other submissions in sight, nothing it starts outlives it")
    return ("each notebook runs in an empty folder of its own under a memory limit, and what it starts is "
            "killed after it; without bubblewrap (apt-get install bubblewrap) it can still read and write "
            "the course's files")


# --- the notebook that is graded -----------------------------------------------------------------


def _grading(cell):
    """A cell's nbgrader metadata (a dict, empty when it has none or something else stands there)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    grading = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return grading if isinstance(grading, dict) else {}


def _is_answer(cell):
    return bool(_grading(cell).get("solution")) or str(cell.get("id", "")).endswith("-your-answer")


def _text(source):
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def restored(release, submitted):
    """Return (the notebook to grade, notes): the release's cells, with the submission's answers in them.

    An answer cell is found by its cell id, else by its nbgrader grade id; one
    the submission lacks stays as released (blank). Every other cell is the
    release's, whatever the submission did to it; a note says how many it
    changed, added or removed.
    """
    cells = submitted.get("cells") if isinstance(submitted, dict) else None
    if not isinstance(cells, list):
        return copy.deepcopy(release), ["no cells: graded as released"]
    mine = [cell for cell in cells if isinstance(cell, dict)]
    by_id = {cell["id"]: cell for cell in reversed(mine) if isinstance(cell.get("id"), str)}
    by_grade_id = {_grading(cell)["grade_id"]: cell for cell in reversed(mine)
                   if isinstance(_grading(cell).get("grade_id"), str)}
    notebook = copy.deepcopy(release)
    for cell in notebook["cells"]:
        if not _is_answer(cell):
            continue
        theirs = by_id.get(cell.get("id")) or by_grade_id.get(_grading(cell).get("grade_id"))
        source = _text(theirs.get("source")) if theirs is not None else None
        if source is not None and theirs.get("cell_type") == cell["cell_type"]:
            cell["source"] = source
    originals = {cell["id"]: cell for cell in release["cells"]}
    changed = sum(1 for cell in mine if not _is_answer(originals.get(cell.get("id"), cell)) and (
        cell.get("id") not in originals
        or _text(cell.get("source")) != _text(originals[cell["id"]]["source"])
        or _grading(cell) != _grading(originals[cell["id"]])))
    changed += len(set(originals) - {cell.get("id") for cell in mine})
    if not changed:
        return notebook, []
    return notebook, [f"{changed} cells changed, added or removed outside the answers: set back to the release"]


# --- the kernel ----------------------------------------------------------------------------------


def _kernel_argv(sandbox, folder, hide, keep):
    """The kernelspec's argv: ipykernel under a memory limit, in ``folder``/work, sandboxed by ``sandbox``."""
    python = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return _sandboxed(sandbox, folder, hide, keep, python, folder / "work", [folder / "run"])


def _sandboxed(sandbox, folder, hide, keep, command, work, writable=()):
    """``command`` under a memory limit in ``work``, sandboxed: only ``work`` and ``writable`` can be written,
    ``folder``/lib (the hand-out module) is read-only."""
    limited = ["prlimit", f"--as={MEMORY_GIB << 30}", "--", *command]
    if sandbox == "folder":
        return ["env", "-C", str(work), *limited]
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/dev/shm",
            "--tmpfs", "/tmp"]
    for path in hide:
        argv += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    for path in keep:  # what the chapter reads, where a hidden folder holds it
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--ro-bind", str(folder / "lib"), str(folder / "lib")]
    for path in [*writable, work]:
        argv += ["--bind", str(path), str(path)]
    argv += ["--chdir", str(work), "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
             # ipykernel polls its parent's pid and exits when it is not JPY_PARENT_PID: in its own process
             # namespace it cannot see it (--die-with-parent does that job).
             "--unsetenv", "JPY_PARENT_PID", *limited]
    return argv


def _hidden_and_kept(course, submissions):
    """The folders a sandboxed kernel must not see, and those under them it must still read."""
    import ldc.cache

    home = Path.home()
    hide = [course.resolve(), submissions.resolve(), home] + [ROOT / name for name in HIDDEN]
    hide = [path for path in hide if path.exists() and not _under(path, Path("/tmp"))]
    data = Path(os.environ.get("TFDS_DATA_DIR") or home / "tensorflow_datasets")
    python = [Path(sys.prefix), Path(sys.base_prefix), Path(ldc.__file__).parent]  # the venv, its Python, ldc
    keep = [path.resolve() for path in (*python, ldc.cache.cache_dir(), data) if path.exists()]
    keep = [path for path in keep if any(_under(path, hidden) for hidden in hide + [Path("/tmp")])]
    return hide, keep


def _under(path, folder):
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _write_kernelspec(folder, argv):
    spec = folder / "kernels" / "share" / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "ldc grading", "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONPATH": str(folder / "lib"),
                "LDC_HANDOUT_DIR": str(folder / "work" / "answers")}}))
    return folder / "kernels" / "share" / "jupyter"


# --- processes -----------------------------------------------------------------------------------


def become_subreaper():
    """Make this process inherit every orphan below it, so that a detached process can still be found."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def kill_descendants():
    """SIGKILL every process below this one (orphans included, once this is a subreaper); return how many."""
    killed = 0
    for _ in range(20):
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        below, todo = [], [os.getpid()]
        while todo:
            for child in children.get(todo.pop(), []):
                below.append(child)
                todo.append(child)
        if not below:
            break
        for pid in below:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        for pid in below:  # reap our own children; the rest are reaped by their parents or by us as orphans
            while time.time() < deadline:
                try:
                    if os.waitpid(pid, os.WNOHANG) != (0, 0):
                        break
                except ChildProcessError:
                    break
                time.sleep(0.01)
    return killed


# --- one notebook ---------------------------------------------------------------------------------


class _Sandbox:
    """A temporary folder for one notebook's run: run/ (connection file), work/ (the kernel's), lib/ (read-only
    hand-out module), fresh/ (the fresh process's), and the kernelspec that starts the kernel there."""

    def __init__(self, course, submissions, sandbox, cell_limit):
        self.sandbox, self.cell_limit = sandbox, cell_limit
        self.folder = Path(tempfile.mkdtemp(prefix="ldc-grade-"))
        for name in ("run", "work", "lib", "fresh"):
            (self.folder / name).mkdir()
        shutil.copyfile(Path(__file__).with_name("handout.py"), self.folder / "lib" / "ldc_handout.py")
        self.hide, self.keep = _hidden_and_kept(course, submissions)
        jupyter_path = _write_kernelspec(self.folder, _kernel_argv(sandbox, self.folder, self.hide, self.keep))
        # nbclient writes the kernel's connection file to TMPDIR: into the one folder the sandbox shares.
        self.env = dict(os.environ, JUPYTER_PATH=str(jupyter_path), JUPYTER_RUNTIME_DIR=str(self.folder / "run"),
                        TMPDIR=str(self.folder / "run"),
                        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))

    def run(self, command, cwd, limit):
        """Run ``command`` (it starts the kernel); kill all it left behind; return (result or None, seconds)."""
        started = time.time()
        try:
            return subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=limit,
                                  start_new_session=True), time.time() - started
        except subprocess.TimeoutExpired:
            return None, time.time() - started
        finally:
            kill_descendants()

    def evaluate(self, exercises, answer_cells):
        """Run the function lines of each exercise's ``# Graded`` block in a fresh sandboxed process."""
        spec = []
        for exercise in exercises:
            steps = [{"key": key, "code": source} for key, source, fresh in exercise.items() if fresh]
            if any(step["key"] is not None for step in steps):
                spec.append({"exercise": exercise.label, "steps": steps,
                             "definitions": definitions(answer_cells.get(exercise.label, ""))})
        if not spec:
            return
        (self.folder / "lib" / "spec.json").write_text(json.dumps(spec))
        command = [sys.executable, str(self.folder / "lib" / "ldc_handout.py"), "evaluate",
                   str(self.folder / "lib" / "spec.json"), str(self.folder / "fresh")]
        self.run(_sandboxed(self.sandbox, self.folder, self.hide, self.keep, command, self.folder / "fresh"),
                 self.folder / "fresh", self.cell_limit)

    def answers(self, exercises):
        """{label: {key: value or Missing}}: the kernel's hand-outs for data lines, the fresh process's for the rest."""
        found = {}
        for exercise in exercises:
            for key, _, fresh in exercise.items():
                if key is not None:
                    where = self.folder / ("fresh" if fresh else "work/answers") / exercise.label
                    found.setdefault(exercise.label, {})[key] = read_answer(where, key)
        return found

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def grade_one(course, submissions, name, student, notebook, sandbox, mode, limits=None, exercises=()):
    """Autograde ``notebook`` (already restored) as ``student``'s ``name``; return an :class:`Outcome`.

    ``exercises``: the chapter's gradable exercises, whose answers are handed out and read back.
    """
    cell_limit, notebook_limit = limits or LIMITS[mode]
    target = course / "submitted" / student / name
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.ipynb").write_text(json.dumps(notebook))
    started = time.time()
    box = _Sandbox(course, submissions, sandbox, cell_limit)
    try:
        command = [str(Path(sys.executable).parent / "nbgrader"), "autograde", name, f"--student={student}",
                   "--force", f"--Execute.kernel_name={KERNEL}", f"--Execute.timeout={cell_limit}"]
        result, seconds = box.run(command, course, notebook_limit)
        if result is None:
            return Outcome(seconds, f"timed out: the notebook ran past {notebook_limit} s")
        reason = _reason(result, course, name, student, cell_limit)
        if reason is not None:
            return Outcome(seconds, reason)
        box.evaluate(exercises, answer_sources(notebook))
        return Outcome(time.time() - started, None, box.answers(exercises))
    finally:
        box.close()


def reference(course, submissions, name, exercises, sandbox, mode, limits=None):
    """Run chapter ``name``'s source notebook (the model answers) as a submission is run; return its answers.

    GradingError when the notebook fails or a model answer hands out nothing for a graded line.
    """
    cell_limit, notebook_limit = limits or LIMITS[mode]
    source = course / "source" / name / f"{name}.ipynb"
    box = _Sandbox(course, submissions, sandbox, cell_limit)
    try:
        shutil.copyfile(source, box.folder / "run" / f"{name}.ipynb")
        command = [str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                   f"--ExecutePreprocessor.kernel_name={KERNEL}", f"--ExecutePreprocessor.timeout={cell_limit}",
                   "--output", f"{name}.run.ipynb", str(box.folder / "run" / f"{name}.ipynb")]
        result, _ = box.run(command, box.folder / "run", notebook_limit)
        if result is None or result.returncode != 0:
            tail = " ".join(((result.stdout + result.stderr) if result else "").split()[-40:])
            raise GradingError(f"{name}: the model answers did not run to the end "
                               f"({'timed out' if result is None else tail})")
        box.evaluate(exercises, answer_sources(json.loads(source.read_text())))
        found = box.answers(exercises)
    finally:
        box.close()
    missing = [f"{label} line {int(key) + 1}: {value.why}" for label, values in found.items()
               for key, value in values.items() if isinstance(value, Missing)]
    if missing:
        raise GradingError(f"{name}: the model answers handed out no graded value for " + "; ".join(missing))
    return found


# --- answers as plain data ---------------------------------------------------------------------------


def answer_sources(notebook):
    """{exercise label: its answer cell's source} of a notebook built by classroom/course.py."""
    return {cell["id"].removesuffix("-answer"): _text(cell.get("source")) or ""
            for cell in notebook["cells"] if _grading(cell).get("solution") and str(cell.get("id")).endswith("-answer")}


def definitions(source):
    """The statements of an answer cell that a fresh process runs: imports, functions, classes, constants."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError) as err:
        return f"raise SyntaxError({f'the answer cell is not Python: {err}'!r})"
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            try:
                ast.literal_eval(node.value)
                kept.append(node)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                pass
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def read_answer(folder, key):
    """One handed-out answer, read as plain data: a JSON value, or a numeric numpy array (no pickle)."""
    for suffix in (".npy", ".json", ".error"):
        path = folder / f"{key}{suffix}"
        if not path.is_file() or path.is_symlink():
            continue
        if path.stat().st_size > MAX_BYTES:
            return Missing(f"more than {MAX_BYTES >> 20} MB")
        try:
            if suffix == ".error":
                return Missing(" ".join(path.read_text(errors="replace").split())[:200])
            if suffix == ".json":
                return json.loads(path.read_text())
            array = np.load(path, allow_pickle=False)
            if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
                return Missing("not a numeric array")
            return array
        except (OSError, ValueError, RecursionError, UnicodeDecodeError) as err:
            return Missing(f"unreadable ({type(err).__name__})")
    return Missing("not handed out (its check cell did not run)")


def _plain(value):
    """A read-back answer in comparable form: ('array', float array) for numeric arrays and rectangular numeric
    lists; ('int', v), ('float', v), ('bool', v), ('str', v), ('none', None), ('list', [...]), ('dict', {...})."""
    if isinstance(value, np.ndarray):
        return ("int", int(value)) if value.ndim == 0 and value.dtype.kind in "iu" else \
            ("float", float(value)) if value.ndim == 0 else ("array", value.astype(float))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("none", None)
    if isinstance(value, dict):
        return ("dict", {key: _plain(item) for key, item in value.items()})
    if isinstance(value, list):
        if value and all(type(item) in (int, float) or isinstance(item, list) for item in value):
            try:
                array = np.array(value, dtype=float)
                if array.ndim >= 1:
                    return ("array", array)
            except (ValueError, TypeError, OverflowError):
                pass
        return ("list", [_plain(item) for item in value])
    return ("other", None)


def _same(expected, got):
    """True when the read-back answer ``got`` is the model answer's ``expected`` (both from :func:`_plain`)."""
    kind, want = expected
    have_kind, have = got
    if kind == "float" and have_kind in ("int", "float"):
        return math.isfinite(have) == math.isfinite(want) and (
            have == want or math.isclose(have, want, rel_tol=RTOL, abs_tol=ATOL))
    if kind != have_kind:
        return False
    if kind == "array":
        return have.shape == want.shape and bool(np.allclose(have, want, rtol=RTOL, atol=ATOL, equal_nan=True))
    if kind == "dict":
        return have.keys() == want.keys() and all(_same(want[k], have[k]) for k in want)
    if kind == "list":
        return len(have) == len(want) and all(_same(w, h) for w, h in zip(want, have))
    return have == want


def scores(expected, answers, exercises, points):
    """{label: (score, why or None)}: ``points`` when every graded line equals the model answer's, else 0."""
    result = {}
    for exercise in exercises:
        lines = {key: source for key, source, _ in exercise.items() if key is not None}
        why = None
        for key, source in lines.items():
            got = answers.get(exercise.label, {}).get(key, Missing("not handed out"))
            shown = " ".join(source.split())
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            if isinstance(got, Missing):
                why = f"{shown}: {got.why}"
            elif not _same(_plain(expected[exercise.label][key]), _plain(got)):
                why = f"{shown}: not the model answer's"
            if why:
                break
        result[exercise.label] = (0.0 if why else float(points), why)
    return result


def _reason(result, course, name, student, cell_limit):
    """None when nbgrader graded the whole notebook; else a one-line reason for a 0."""
    log = result.stdout + result.stderr
    graded = course / "autograded" / student / name / f"{name}.ipynb"
    if any(word in log for word in ("UnresponsiveKernelError", "CellTimeoutError", "TimeoutError")):
        return f"timed out: a cell ran past {cell_limit} s and would not stop"
    if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log:
        return "the kernel died (it exited, was killed, or ran out of memory)"
    if result.returncode != 0 or "| ERROR]" in log or not graded.is_file():
        raised = [line.strip() for line in log.splitlines() if re.match(r"\s*[\w.]+(Error|Exception)\b", line)]
        return "grading stopped: " + (raised[-1][:160] if raised else f"nbgrader exited with {result.returncode}")
    outputs = [output for cell in json.loads(graded.read_text())["cells"] for output in cell.get("outputs", [])]
    if any(output.get("ename") == "CellTimeoutError" for output in outputs):
        return f"timed out: a cell ran past {cell_limit} s"
    return None
