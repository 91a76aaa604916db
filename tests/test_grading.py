"""The comparison that decides a score, outside the student's kernel (classroom/grading.py, classroom/handout.py)."""
import json

import numpy as np
import pytest

from classroom import grading, handout


class Anything(float):
    """A cheat's answer: equal to everything, and a float to isinstance."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def _handed(tmp_path, value):
    handout.write(tmp_path, "0", lambda: value)
    return grading.read_answer(tmp_path, "0")


def test_plain_data_comes_back_as_it_was_and_anything_else_is_refused_with_its_type(tmp_path):
    assert _handed(tmp_path / "a", {"refused": 996, "same": np.int64(0)}) == {"refused": 996, "same": 0}
    assert _handed(tmp_path / "b", [("conv_1", np.float32(0.5))]) == [["conv_1", 0.5]]
    array = _handed(tmp_path / "c", np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert type(array) is np.ndarray and array.dtype == np.uint8 and array.shape == (2, 3)
    for cheat, name in [(Anything(1.0), "Anything"), (np.array([object()]), "ndarray"),
                        ({1: 2}, "dict"), (np.ma.masked_array([1.0]), "MaskedArray")]:
        got = _handed(tmp_path / name, cheat)
        assert isinstance(got, grading.Missing) and name in got.why, (cheat, got)


def test_an_answer_that_raises_is_missing_with_its_reason(tmp_path):
    handout.write(tmp_path, "1", lambda: undefined_name)  # noqa: F821
    got = grading.read_answer(tmp_path, "1")
    assert isinstance(got, grading.Missing) and "NameError" in got.why
    assert "not handed out" in grading.read_answer(tmp_path, "2").why


def test_a_pickled_or_oversized_file_is_never_loaded(tmp_path, monkeypatch):
    np.save(tmp_path / "0.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert isinstance(grading.read_answer(tmp_path, "0"), grading.Missing)
    (tmp_path / "1.json").write_text(json.dumps(list(range(1000))))
    monkeypatch.setattr(grading, "MAX_BYTES", 100)
    assert "MB" in grading.read_answer(tmp_path, "1").why
    (tmp_path / "2.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setattr(grading, "MAX_BYTES", 1 << 20)
    assert isinstance(grading.read_answer(tmp_path, "2"), grading.Missing)


@pytest.mark.parametrize("expected, got, same", [
    (104, 104, True), (104, 104.0, False), (104, 105, False),           # whole numbers exactly, as whole numbers
    (0.0931, 0.09310001, True), (0.0931, 0.0932, False), (2.5, 2, False),
    (2.0, 2, True), (float("nan"), 1.0, False), (True, 1, False),
    ({"a": 1, "b": 2.0}, {"a": 1, "b": 2.0}, True), ({"a": 1}, {"a": 1, "b": 0}, False),
    ([1.0, 2.0], np.array([1.0, 2.0]), True), (np.zeros((2, 3)), np.zeros((3, 2)), False),
    (np.zeros(3), [0, 0, 1e-3], False), ([["conv_1", 0.5]], [["conv_1", 0.50001]], True),
    ([["conv_1", 0.5]], [["conv_2", 0.5]], False), ("x", "x", True), (None, 0, False),
])
def test_the_comparison_is_strict_about_kinds_and_close_about_floats(expected, got, same):
    assert grading._same(grading._plain(expected), grading._plain(got)) is same


def test_a_fresh_process_gets_only_an_answer_cells_definitions():
    source = ("%matplotlib inline\nimport numpy as np\nK = 3\nstate = test.images\n"
              "def f(x):\n    return x + K\nprint(f(1))\nclass C:\n    pass\n")
    kept = grading.definitions(source)
    namespace = {}
    exec(kept, namespace)
    assert namespace["f"](1) == 4 and "C" in namespace and "state" not in namespace
    with pytest.raises(SyntaxError, match="not Python"):
        exec(grading.definitions("def f(:\n"), {})


def test_the_fresh_evaluation_runs_the_graded_lines_on_the_checkers_inputs(tmp_path):
    spec = [{"exercise": "ex", "definitions": "def double(x):\n    return 2 * x\n",
             "steps": [{"key": None, "code": "grid = np.arange(4)"}, {"key": "0", "code": "double(grid)"},
                       {"key": "1", "code": "missing(grid)"}]},
            {"exercise": "broken", "definitions": "raise RuntimeError('no')", "steps": [{"key": "0", "code": "1"}]}]
    handout.evaluate(spec, tmp_path)
    assert grading.read_answer(tmp_path / "ex", "0").tolist() == [0, 2, 4, 6]
    assert "NameError" in grading.read_answer(tmp_path / "ex", "1").why
    assert "fail on their own" in grading.read_answer(tmp_path / "broken", "0").why
