"""Run cnntui (or any Python) in a subprocess on another Keras backend, TensorFlow absent.

The child gets ``KERAS_BACKEND`` and a ``sitecustomize`` on ``PYTHONPATH`` that hides
TensorFlow the way an install without it would: every import finder answers "not found"
for ``tensorflow``, ``tensorflow_*`` and ``tf_keras`` (so ``import tensorflow`` raises
``ModuleNotFoundError: No module named 'tensorflow'`` and ``importlib.util.find_spec``
returns None), and ``importlib.metadata`` lists no such distribution. The same tests
therefore mean the same thing in the TensorFlow environment (CI) and in one without it.

Use::

    from backend_harness import needs_backend, run_cli, run_python, assert_ok

    pytestmark = needs_backend("jax")      # marked `jax`; skipped only when jax is absent

    def test_train_under_jax():
        assert_ok(run_cli(["train", "mnist-mlp", "--epochs", "1"], backend="jax"))

The child inherits the parent's environment (so the autouse ``isolated_home`` fixture's
runs, data and cache folders), with ``JAX_PLATFORMS=cpu`` and a JAX compilation cache
shared by the children of one test run, unless the caller sets them.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

BACKENDS = ("jax", "torch", "tensorflow")
DEFAULT_TIMEOUT_S = 300

# Installed in the child through sitecustomize (runs after site-packages' .pth files, so
# the editable-install finder is already there to be wrapped).
_SITECUSTOMIZE = '''\
"""Written by tests/backend_harness.py: TensorFlow is not installed in this process."""
import importlib.metadata as _md
import sys as _sys

_HIDDEN = ("tensorflow", "tf_keras")


def _hidden(name):
    top = (name or "").split(".")[0].replace("-", "_").lower()
    return top in _HIDDEN or top.startswith("tensorflow_")


class _Hide:
    """Wraps one meta-path finder: hidden modules and distributions are not found."""

    def __init__(self, finder):
        self._finder = finder

    def find_spec(self, name, path=None, target=None):
        if _hidden(name):
            return None
        find = getattr(self._finder, "find_spec", None)
        return find(name, path, target) if find else None

    def find_distributions(self, context=_md.DistributionFinder.Context()):
        find = getattr(self._finder, "find_distributions", None)
        if find is None:
            return iter(())
        return (d for d in find(context) if not _hidden(d.metadata["Name"]))

    def invalidate_caches(self):
        inv = getattr(self._finder, "invalidate_caches", None)
        if inv:
            inv()

    def __getattr__(self, attr):
        return getattr(self._finder, attr)


for _name in [m for m in _sys.modules if _hidden(m)]:
    del _sys.modules[_name]
_sys.meta_path[:] = [_Hide(f) for f in _sys.meta_path]
'''


@cache
def _scratch() -> Path:
    """This test process's folder: ``site/sitecustomize.py`` (hides TensorFlow) and
    ``jax-cache/`` (XLA's compilation cache, shared by every child: the same model's
    kernels compile once per test run instead of once per child)."""
    folder = Path(tempfile.mkdtemp(prefix="cnntui-backends-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    (folder / "jax-cache").mkdir()
    return folder


def installed(module: str) -> bool:
    """Whether ``module`` can be imported by this interpreter (and so by the child)."""
    return importlib.util.find_spec(module) is not None


def needs_backend(backend: str) -> list[Any]:
    """Marks for a test (or ``pytestmark``) that runs under ``backend``: the marker of
    that name, and a skip only when the backend's own package is not installed."""
    if backend not in ("jax", "torch"):
        raise ValueError(f"needs_backend: expected 'jax' or 'torch', got {backend!r}")
    hint = "pip install '.[jax]'" if backend == "jax" else "pip install torch"
    return [
        getattr(pytest.mark, backend),
        pytest.mark.skipif(not installed(backend), reason=f"{backend} is not installed: {hint}"),
    ]


def backend_env(
    backend: str,
    *,
    hide_tensorflow: bool = True,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: this one, ``KERAS_BACKEND=backend``, TensorFlow hidden
    (unless ``hide_tensorflow`` is False), then ``env`` on top."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    out = dict(os.environ)
    out["KERAS_BACKEND"] = backend
    out.setdefault("JAX_PLATFORMS", "cpu")
    if "JAX_COMPILATION_CACHE_DIR" not in out:
        out["JAX_COMPILATION_CACHE_DIR"] = str(_scratch() / "jax-cache")
        out["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        out["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"
    out["PYTHONUNBUFFERED"] = "1"
    path = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
    if hide_tensorflow:
        path.insert(0, str(_scratch() / "site"))
    if path:
        out["PYTHONPATH"] = os.pathsep.join(path)
    out.update(env or {})
    return out


def run_python(
    code: str | Sequence[str],
    *,
    backend: str = "jax",
    hide_tensorflow: bool = True,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` (or ``python *code`` for a list of arguments) under
    ``backend``; returns the finished process (text ``stdout``/``stderr``, never raises
    for a non-zero exit)."""
    argv = ["-c", code] if isinstance(code, str) else list(code)
    return subprocess.run(
        [python or sys.executable, *argv],
        env=backend_env(backend, hide_tensorflow=hide_tensorflow, env=env),
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def run_cli(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cnntui *args`` (as ``python -m cnntui``) under a backend; the keyword
    arguments are :func:`run_python`'s."""
    return run_python(["-m", "cnntui", *map(str, args)], **kwargs)


def run_json(code: str, **kwargs: Any) -> Any:
    """Run ``code`` like :func:`run_python`, require exit 0, and parse the last line it
    printed as JSON."""
    result = assert_ok(run_python(code, **kwargs))
    lines = result.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"the child printed nothing; stderr:\n{_tail(result.stderr)}")
    return json.loads(lines[-1])


def assert_ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``result`` itself when it exited 0; else an AssertionError with its output's tail."""
    if result.returncode != 0:
        raise AssertionError(
            f"exit {result.returncode} from {' '.join(map(str, result.args[1:]))[:300]}\n"
            f"stdout:\n{_tail(result.stdout)}\nstderr:\n{_tail(result.stderr)}"
        )
    return result


def _tail(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]
