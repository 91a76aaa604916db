"""make test-colab builds its Colab-like venv from tools/colab-preinstalled.txt: the same pins as ../shared/colab's."""
from pathlib import Path

from tests.conftest import build_machine_file

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "tools" / "colab-preinstalled.txt"


def test_the_colab_pins_pin_colabs_python_313_runtime():
    pins = dict(line.split("==") for line in COPY.read_text().splitlines() if line and not line.startswith("#"))
    assert pins["tensorflow"] == "2.20.0" and pins["keras"].startswith("3.") and pins["numpy"].startswith("2.")
    assert "tensorflow-compression" not in pins and "constriction" not in pins  # what the first cell adds


def test_the_copy_matches_the_shared_pins():
    # The project's machines keep Colab's pins beside the checkout; elsewhere (GitHub) the copy stands alone.
    shared = build_machine_file("colab/colab-preinstalled.txt", "Colab's measured pins, which the copy must match")
    assert COPY.read_text() == shared.read_text(), "tools/colab-preinstalled.txt drifted from ../shared/colab"
