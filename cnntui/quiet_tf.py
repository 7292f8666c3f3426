"""Keep TensorFlow's C++ start-up chatter off the terminal.

TensorFlow writes lines such as "Could not find cuda drivers" and "failed call to cuInit"
straight to file descriptor 2 while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` can act. On a
CPU box they are noise, and inside the TUI they would scribble over the screen. This
module installs an import hook that, on the first ``import tensorflow`` from anywhere
(Keras included), points fd 2 at a temporary file while TensorFlow loads and picks its
devices, then replays every line that is not known noise. ``CNNTUI_TF_VERBOSE=1`` turns it off.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|cuda_platform\.cc|"
    r"cpu_feature_guard\.cc|To enable the following instructions|rebuild TensorFlow with|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|"
    r"TF-TRT Warning|oneDNN custom operations|cuda_executor\.cc|gpu_device\.cc:\d+\] Cannot dlopen"
)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module) -> None:
        with _filtered_stderr():
            self._inner.exec_module(module)
            try:
                module.config.list_physical_devices()  # device probing logs too
            except Exception:  # noqa: BLE001 - never let the filter break the import
                pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _filtered_stderr:
    """Redirect fd 2 to a temporary file; replay the lines that are not noise."""

    def __enter__(self):
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        self._saved = os.dup(2)
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc):
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        kept = [line for line in text.splitlines() if line.strip() and not NOISE.search(line)]
        if kept:
            os.write(2, ("\n".join(kept) + "\n").encode())
        return False


def is_quiet_finder(finder: object) -> bool:
    """Whether ``finder`` is this module's hook (asking it about TensorFlow removes it)."""
    return isinstance(finder, _QuietTensorFlowFinder)


def install() -> None:
    """Install the hook once, unless TensorFlow is already loaded or the user opted out."""
    if "tensorflow" in sys.modules or os.environ.get("CNNTUI_TF_VERBOSE"):
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
