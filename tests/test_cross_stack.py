"""Models and files travel between the stacks: trained or written by the other stack, used by this one.

``make test-cross`` runs these twice, from each stack with ``LDC_OTHER_PYTHON``
naming the other stack's venv Python (3.11 with tensorflow-compression and
Keras 2; 3.13 with Keras 3 and the portable backend). The other stack trains
a quick model into a shared cache and writes a container of real test digits;
this stack loads the model, must compute the same integers for the same
digits, and must decode the file to the very integers the writer coded.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ldc

pytestmark = [pytest.mark.cross_stack, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[1]
DIGITS = 300

# Run by the other stack: train (cached), then write its integers, decoded digits and a file.
WRITER = """
import json, sys
import numpy as np
import ldc
out = sys.argv[1]
trained = ldc.load_or_train(ldc.TrainConfig(lmbda=2000.0, quick=True), verbose=False)
codec = trained.codec()
digits = ldc.load_mnist("test", limit=%d).images
np.save(out + "/integers.npy", np.round(codec.latents(digits)).astype(np.int32))
np.save(out + "/decoded.npy", codec.from_container(codec.to_container(digits)))
codec.write(out + "/digits.ldc", digits)
print(json.dumps({"fingerprint": codec.fingerprint.hex(), "trained_with": trained.trained_with,
                  "backend": ldc.entropy_backend()}))
""" % DIGITS


def other_python():
    path = os.environ.get("LDC_OTHER_PYTHON")
    if not path:
        pytest.fail("set LDC_OTHER_PYTHON to the other stack's venv Python (make test-cross does)")
    return path


@pytest.fixture
def written_by_the_other_stack(tmp_path, isolated_cache):
    result = subprocess.run([other_python(), "-c", WRITER, str(tmp_path)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "LDC_CACHE_DIR": str(isolated_cache)})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert not report["trained_with"]["python"].startswith(here), "LDC_OTHER_PYTHON must be the other stack"
    return tmp_path, report


def test_a_model_trained_on_the_other_stack_gives_the_same_integers_here(written_by_the_other_stack):
    folder, report = written_by_the_other_stack
    trained = ldc.load_or_train(ldc.TrainConfig(lmbda=2000.0, quick=True), verbose=False)
    assert trained.cache == "hit" and trained.fingerprint.hex() == report["fingerprint"]
    codec = trained.codec()
    digits = ldc.load_mnist("test", limit=DIGITS).images
    theirs = np.load(folder / "integers.npy")
    ours = np.round(codec.latents(digits)).astype(np.int32)
    print(f"\nmodel trained with {report['trained_with']}: {np.mean(ours == theirs):.4%} of "
          f"{ours.size} integers equal here")
    np.testing.assert_array_equal(ours, theirs)


def test_a_file_written_on_the_other_stack_decodes_bit_exactly_here(written_by_the_other_stack):
    folder, report = written_by_the_other_stack
    container = ldc.read_container(folder / "digits.ldc")
    codec = ldc.find_model(container.fingerprint, container.description).codec()
    integers = codec.container_integers(container)
    np.testing.assert_array_equal(integers, np.load(folder / "integers.npy"))
    decoded = codec.read(folder / "digits.ldc")
    theirs = np.load(folder / "decoded.npy")
    differing = int(np.sum(decoded != theirs))
    print(f"\nfile of {container.count} digits from {report['backend']} on Python "
          f"{report['trained_with']['python']}: integers identical; {differing} of {decoded.size} decoded pixels "
          f"differ, by at most {int(np.max(np.abs(decoded.astype(int) - theirs))) if differing else 0} grey levels")
    np.testing.assert_array_equal(decoded, theirs)
