"""Grading one submitted notebook so that it cannot reach the course, the others, or the grading itself.

``tools/classroom.py grade`` calls :func:`grade_one` for each notebook of a
submissions folder. Each one

- is rebuilt from the released notebook: every cell comes from the release
  (so an edited chapter cell, a deleted check or changed grading metadata is
  undone), and only the answer cells (nbgrader's solution cells, and the
  markdown cells for written answers) are taken from the submission;
- runs in its own kernel, started by a kernelspec written for it alone: in a
  bubblewrap sandbox where ``bwrap`` runs (the whole file system read-only;
  the course, the submissions folder, the chapters with their solutions, the
  tools, the tests, ``_build/``, the home folder and ``/tmp`` replaced by empty
  folders; its own process namespace, so nothing it starts survives it), or,
  without bubblewrap, in an empty working folder of its own; in both under a
  memory limit (``prlimit --as``);
- has a time limit per cell (nbgrader's) and per notebook (this module's); when
  either runs out, or the kernel dies, the notebook scores 0 with a one-line
  reason, and every process it left behind is killed.

What it does not do (yet): the checks still run in the student's kernel, so a
submission that patches numpy or strips ``assert`` statements can pass them.
"""
import copy
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "ldc-grading"
LIMITS = {"quick": (120, 900), "full": (1200, 3600)}  # seconds per cell, per notebook (full: ex. 10 trains)
MEMORY_GIB = 16  # address space of a kernel (TensorFlow alone maps about 3 GiB)
HIDDEN = ["book", "tools", "tests", "student", "_build", ".git"]  # of the repository, in the sandbox


@dataclass
class Outcome:
    """How one notebook's grading went: ``reason`` is None when it ran to the end."""

    seconds: float
    reason: str | None


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
    limited = ["prlimit", f"--as={MEMORY_GIB << 30}", "--", *python]
    work = folder / "work"
    if sandbox == "folder":
        return ["env", "-C", str(work), *limited]
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/dev/shm",
            "--tmpfs", "/tmp"]
    for path in hide:
        argv += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    for path in keep:  # what the chapter reads, where a hidden folder holds it
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--bind", str(folder / "run"), str(folder / "run"), "--bind", str(work), str(work),
             "--chdir", str(work), "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
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
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}}))
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


# --- one notebook --------------------------------------------------------------------------------


def grade_one(course, submissions, name, student, notebook, sandbox, mode, limits=None):
    """Autograde ``notebook`` (already restored) as ``student``'s ``name``; return an :class:`Outcome`."""
    cell_limit, notebook_limit = limits or LIMITS[mode]
    target = course / "submitted" / student / name
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{name}.ipynb").write_text(json.dumps(notebook))
    folder = Path(tempfile.mkdtemp(prefix="ldc-grade-"))
    started = time.time()
    try:
        (folder / "run").mkdir()
        (folder / "work").mkdir()
        hide, keep = _hidden_and_kept(course, submissions)
        jupyter_path = _write_kernelspec(folder, _kernel_argv(sandbox, folder, hide, keep))
        # nbclient writes the kernel's connection file to TMPDIR: into the one folder the sandbox shares.
        env = dict(os.environ, JUPYTER_PATH=str(jupyter_path), JUPYTER_RUNTIME_DIR=str(folder / "run"),
                   TMPDIR=str(folder / "run"),
                   PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        command = [str(Path(sys.executable).parent / "nbgrader"), "autograde", name, f"--student={student}",
                   "--force", f"--Execute.kernel_name={KERNEL}", f"--Execute.timeout={cell_limit}"]
        try:
            result = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True,
                                    timeout=notebook_limit, start_new_session=True)
        except subprocess.TimeoutExpired:
            return Outcome(time.time() - started, f"timed out: the notebook ran past {notebook_limit} s")
        finally:
            kill_descendants()
        return Outcome(time.time() - started, _reason(result, course, name, student, cell_limit))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
