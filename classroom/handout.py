"""Hand graded answers out of a notebook as plain data: the one part of grading that runs beside a submission.

classroom/grading.py copies this file, as ``ldc_handout.py``, into a read-only
folder on the grading kernel's path. Two uses:

- In the kernel, each exercise's locked check cell calls :func:`hand_out`
  with the answers its ``# Graded`` block names (``blank_bits``, ...): each is
  written to ``$LDC_HANDOUT_DIR/<exercise>/<key>.json`` (numbers, strings,
  lists, dicts) or ``.npy`` (a numeric array, saved without pickle), or
  ``<key>.error`` saying why it could not be (undefined, not plain data).
- In a fresh process (``python ldc_handout.py evaluate SPEC OUT``), the
  ``# Graded`` lines that call a function the answer defines are run on the
  checker's inputs, with only the answer cell's definitions in scope, and
  their results written the same way.

Nothing written here is trusted: the grader reads the files back as plain
data (json, ``numpy.load(allow_pickle=False)``) and compares them in its own
process. Standard library and numpy only (ldc is imported for the
functions' inputs).
"""
import json
import os
import sys
import traceback
from pathlib import Path

import numpy as np

DIR_ENV = "LDC_HANDOUT_DIR"


def plain(value, depth=0):
    """Return ``value`` as JSON-ready plain data; TypeError naming the type when it is not plain data."""
    if depth > 20:
        raise TypeError("nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value.tolist()
    if type(value) in (list, tuple):
        return [plain(item, depth + 1) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {key: plain(item, depth + 1) for key, item in value.items()}
    raise TypeError(f"not plain data: a {type(value).__module__}.{type(value).__qualname__}")


def write(folder, key, compute):
    """Write ``compute()`` to ``folder/key.npy`` or ``.json``; on any failure, the reason to ``key.error``."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        value = compute()
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            np.save(folder / f"{key}.npy", value, allow_pickle=False)
        else:
            (folder / f"{key}.json").write_text(json.dumps(plain(value)))
    except BaseException as err:  # noqa: B902 (whatever a submission raises, it is its answer's reason)
        (folder / f"{key}.error").write_text(f"{type(err).__name__}: {err}"[:300])


def hand_out(exercise, items):
    """Write each of ``items`` ({key: a function of no arguments giving the answer}) for ``exercise``."""
    folder = Path(os.environ[DIR_ENV]) / exercise
    for key, compute in items.items():
        write(folder, key, compute)


def evaluate(spec, out):
    """Run each exercise's definitions and ``# Graded`` steps of ``spec`` in a fresh namespace; write the items."""
    import ldc

    for exercise in spec:
        folder = out / exercise["exercise"]
        scope = {"np": np, "ldc": ldc, "__name__": "answer"}
        broken = None
        try:
            exec(compile(exercise["definitions"], "<answer>", "exec"), scope)
        except BaseException as err:  # noqa: B902
            broken = f"the answer's definitions fail on their own: {type(err).__name__}: {err}"
        for step in exercise["steps"]:
            if broken is not None:
                if step["key"] is not None:
                    (out / exercise["exercise"]).mkdir(parents=True, exist_ok=True)
                    (folder / f"{step['key']}.error").write_text(broken[:300])
                continue
            if step["key"] is None:
                try:
                    exec(compile(step["code"], "<graded>", "exec"), scope)
                except BaseException as err:  # noqa: B902
                    broken = f"the checker's inputs failed: {type(err).__name__}: {err}"
            else:
                write(folder, step["key"], lambda code=step["code"]: eval(compile(code, "<graded>", "eval"), scope))


def main(argv):
    if len(argv) != 3 or argv[0] != "evaluate":
        sys.exit("usage: python ldc_handout.py evaluate SPEC.json OUT")
    try:
        evaluate(json.loads(Path(argv[1]).read_text()), Path(argv[2]))
    except BaseException:  # noqa: B902
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
