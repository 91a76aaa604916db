"""The environment switches: one parser, the same meaning everywhere, and a clear error for a bad value."""
import pytest

import ldc
from ldc import experiments, published, settings
from ldc.errors import ConfigurationError


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), (" Yes ", True), ("on", True),
                                             ("0", False), ("false", False), ("No", False), ("off", False),
                                             ("", None)])
def test_a_flag_reads_the_same_words_everywhere(monkeypatch, value, expected):
    monkeypatch.setenv("LDC_QUICK", value)
    monkeypatch.setenv("LDC_PRETRAINED", value)
    assert ldc.quick_mode() is (False if expected is None else expected)
    assert published.enabled() is (True if expected is None else expected)
    assert ldc.mode_name() == ("quick" if expected else "full")


@pytest.mark.parametrize("name, value, call", [
    ("LDC_QUICK", "maybe", lambda: ldc.quick_mode()),
    ("LDC_PRETRAINED", "2", lambda: published.enabled()),
    ("LDC_ENTROPY", "zip", lambda: ldc.entropy_backend()),
    ("LDC_SEED_OFFSET", "-1", lambda: experiments.seed_offset()),
    ("LDC_MODELS_TIMEOUT", "0", lambda: published.timeout()),
])
def test_a_bad_value_is_named(monkeypatch, name, value, call):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{name}='{value}'"):
        call()


def test_numbers_and_defaults(monkeypatch):
    monkeypatch.delenv("LDC_SEED_OFFSET", raising=False)
    assert settings.whole_number("LDC_SEED_OFFSET", 0, 10) == 0
    monkeypatch.setenv("LDC_SEED_OFFSET", "3")
    assert experiments.seed_offset() == 3
    monkeypatch.setenv("LDC_MODELS_TIMEOUT", "2.5")
    assert published.timeout() == 2.5


def test_the_package_imports_have_no_cycle():
    """No ldc module imports one that imports it back, at import time or inside a function."""
    import ast
    from pathlib import Path

    package = Path(ldc.__file__).parent
    graph = {}
    for path in package.glob("*.py"):
        name = path.stem
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ldc"):
                parts = node.module.split(".")
                if len(parts) > 1:
                    imported.add(parts[1])
                else:
                    imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ldc.")}
        graph[name] = {m for m in imported if (package / f"{m}.py").exists() and m != name}
    graph.pop("__init__", None)
    graph.pop("__main__", None)

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, (*seen, n))) for n in graph.get(start, ()))

    cycles = sorted(name for name in graph if reaches(name, name))
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_a_temporary_environment_is_restored_even_after_an_error(monkeypatch):
    import os

    monkeypatch.setenv("LDC_MODELS_URL", "http://kept")
    monkeypatch.delenv("LDC_CACHE_DIR", raising=False)
    with pytest.raises(RuntimeError), settings.environment(LDC_MODELS_URL=None, LDC_CACHE_DIR="/tmp/x"):
        assert "LDC_MODELS_URL" not in os.environ and os.environ["LDC_CACHE_DIR"] == "/tmp/x"
        raise RuntimeError("inside")
    assert os.environ["LDC_MODELS_URL"] == "http://kept" and "LDC_CACHE_DIR" not in os.environ
