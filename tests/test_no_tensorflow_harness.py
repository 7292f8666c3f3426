"""tests/backend_harness.py: the child runs the backend it is given and cannot see TensorFlow."""

from __future__ import annotations

import pytest
from backend_harness import assert_ok, installed, needs_backend, run_cli, run_json

pytestmark = needs_backend("jax")

PROBE = """
import importlib.metadata as md, importlib.util, json, sys
try:
    import tensorflow
    error = None
except ModuleNotFoundError as exc:
    error = str(exc)
try:
    md.version("tensorflow")
    metadata = True
except md.PackageNotFoundError:
    metadata = False
import keras
print(json.dumps({
    "error": error,
    "spec": importlib.util.find_spec("tensorflow") is not None,
    "tf_keras": importlib.util.find_spec("tf_keras") is not None,
    "metadata": metadata,
    "backend": keras.backend.backend(),
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"),
}))
"""


def test_the_child_runs_the_backend_with_tensorflow_not_installed():
    seen = run_json(PROBE, backend="jax")
    assert seen == {
        "error": "No module named 'tensorflow'",
        "spec": False,
        "tf_keras": False,
        "metadata": False,
        "backend": "jax",
        "loaded": [],
    }


CONTROL = """
import importlib.metadata as md, importlib.util, json
print(json.dumps([importlib.util.find_spec("tensorflow") is not None, md.version("tensorflow")]))
"""


@pytest.mark.skipif(not installed("tensorflow"), reason="the control needs TensorFlow here")
def test_without_hiding_the_child_finds_tensorflow():
    from importlib.metadata import version

    assert run_json(CONTROL, backend="tensorflow", hide_tensorflow=False) == [
        True,
        version("tensorflow"),
    ]


def test_the_cli_runs_in_the_child_and_reports_its_exit_code():
    assert "mnist-conv-pool" in assert_ok(run_cli(["zoo", "list", "--json"])).stdout
    bad = run_cli(["zoo", "show", "no-such-model"])
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
