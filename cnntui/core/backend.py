"""The Keras backend cnntui runs on: chosen, checked and applied before Keras is imported.

Keras reads ``KERAS_BACKEND`` once, at import; ``cnntui --backend NAME`` (or the variable
itself) picks ``tensorflow`` (the default and the reference), ``jax`` or ``torch``.
:func:`select` checks the name and that the backend is installed (without importing it) and
sets the variable; after that every Keras import in the process uses it. Checkpoints stay
plain ``.keras`` files that any backend loads.

Nothing here imports TensorFlow, JAX, PyTorch or Keras.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

from cnntui.core.errors import CnntuiError

ENV = "KERAS_BACKEND"
DEFAULT = "tensorflow"
BACKENDS: dict[str, tuple[str, str]] = {
    # name: (module to find, distribution to install)
    "tensorflow": ("tensorflow", "tensorflow"),
    "jax": ("jax", "jax"),
    "torch": ("torch", "torch"),
}
INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": "pip install jax  (jax[cpu], or jax[cuda12] for an NVIDIA GPU)",
    "torch": "pip install torch",
}


TUNING_ENV = "CNNTUI_JAX_TUNING"
XLA_CPU_FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
XLA_CPU_FLAG_JAXLIB = "0.10."  # the jaxlib series the flag was checked with


class BackendError(CnntuiError):
    """An unknown or uninstalled backend, or work the active backend cannot do (exit 2)."""


_FROM_USER = ENV in os.environ  # set by the user (else :func:`init_env` picks the default)


def default() -> str:
    """TensorFlow when it is installed (the reference), else the first installed backend."""
    for name in BACKENDS:
        if installed(name):
            return name
    return DEFAULT


def init_env() -> None:
    """Fill in ``$KERAS_BACKEND`` with :func:`default` unless the user set it (at import of
    :mod:`cnntui`, before anything imports Keras)."""
    if not _FROM_USER:
        os.environ[ENV] = default()


def requested(name: str | None = None) -> str:
    """The backend asked for: ``name``, else ``$KERAS_BACKEND``, else :func:`default`."""
    value = name if name else os.environ.get(ENV) or default()
    return value.strip().lower()


def installed(name: str) -> bool:
    """Whether backend ``name``'s package can be imported (found, and not blocked)."""
    module = BACKENDS[name][0]
    if module in sys.modules:
        return sys.modules[module] is not None
    from cnntui.quiet_tf import is_quiet_finder

    for finder in sys.meta_path:  # as ``import`` would look, but without importing
        if is_quiet_finder(finder) or not hasattr(finder, "find_spec"):
            continue  # asking it would unhook the quiet import it waits for
        try:
            if finder.find_spec(module, None) is not None:
                return True
        except ImportError:  # a finder that blocks the module
            return False
    return False


def check(name: str | None = None) -> str:
    """The backend ``name`` resolves to, known and installed, else :class:`BackendError`."""
    chosen = requested(name)
    where = "--backend" if name else f"${ENV}" if _FROM_USER else "the default"
    if chosen not in BACKENDS:
        raise BackendError(
            f"unknown Keras backend {chosen!r} (from {where}); choose one of {', '.join(BACKENDS)}"
        )
    if not installed(chosen):
        others = [b for b in BACKENDS if b != chosen and installed(b)]
        instead = f", or use --backend {others[0]}" if others else ""
        raise BackendError(
            f"the Keras backend {chosen!r} (from {where}) is not installed; "
            f"{INSTALL[chosen]}{instead}"
        )
    return chosen


def select(name: str | None = None) -> str:
    """Check ``name`` (see :func:`check`) and make it the backend of this process.

    Once Keras is imported its backend is fixed: asking for another one then is an error.
    """
    chosen = check(name)
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != chosen:
        raise BackendError(
            f"Keras is already running on {keras.backend.backend()!r} in this process; "
            f"start a new one with --backend {chosen} (or {ENV}={chosen})"
        )
    os.environ[ENV] = chosen
    if chosen == "jax":
        use_jax_compilation_cache()
        use_xla_cpu_convolutions()
        if jax_tuning():
            from cnntui.core.host_memory import keep_freed_memory

            keep_freed_memory()  # before JAX starts the threads that allocate its buffers
    return chosen


def jax_tuning() -> bool:
    """Whether cnntui's JAX speed-ups are on (``CNNTUI_JAX_TUNING=off`` turns them off):
    XLA's own CPU convolutions (:func:`use_xla_cpu_convolutions`), the allocator settings of
    :mod:`cnntui.core.host_memory`, and the slice-based max pooling and convolutions of
    :mod:`cnntui.core.jax_ops`."""
    return os.environ.get(TUNING_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def use_xla_cpu_convolutions() -> None:
    """Keep XLA:CPU's own convolutions instead of YNNPACK's, which jaxlib 0.10 picks by
    default and which train the zoo's CNNs 1.3-3x slower on a CPU (docs/backends.md).

    The flag is experimental, and XLA aborts on a flag it does not know, so it is set only
    for the jaxlib series it was checked with (``XLA_CPU_FLAG_JAXLIB``), and never when the
    user's ``XLA_FLAGS`` already choose YNN fusions.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if not jax_tuning() or XLA_CPU_FLAG.split("=")[0] in flags:
        return
    try:
        version = metadata.version("jaxlib")
    except metadata.PackageNotFoundError:
        return
    if not version.startswith(XLA_CPU_FLAG_JAXLIB):
        return
    os.environ["XLA_FLAGS"] = f"{flags} {XLA_CPU_FLAG}".strip()


def use_jax_compilation_cache() -> None:
    """Keep JAX's compiled programs in the user cache folder (``jax/``), every one of them:
    a later run skips the seconds each eager op and train step costs to compile on a CPU.
    Off with ``CNNTUI_CACHE_DIR=off``; the user's own ``JAX_*`` settings win."""
    from cnntui.core.user_dirs import cache_root

    root = cache_root()
    if root is None:
        return
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(root / "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def current() -> str:
    """The backend Keras uses in this process (or will use once it is imported)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        return str(keras.backend.backend())
    return requested()


def is_tensorflow() -> bool:
    """Whether this process runs Keras on TensorFlow."""
    return current() == "tensorflow"


def tensorflow_usable() -> bool:
    """Whether TensorFlow can serve this process: the backend is TensorFlow, or it is
    installed beside the active backend (for work only TensorFlow does)."""
    return is_tensorflow() or installed("tensorflow")


def require_tensorflow(what: str) -> None:
    """Raise :class:`BackendError` unless TensorFlow is importable here (``what`` needs it)."""
    if installed("tensorflow"):
        return
    raise BackendError(
        f"{what} needs TensorFlow, which is not installed (Keras runs on {current()}); "
        "pip install tensorflow, then run it again"
    )


def describe(name: str | None = None) -> dict[str, str]:
    """``{"name", "version"}`` of the backend (``name`` or the current one), for the record."""
    chosen = name or current()
    dist = BACKENDS.get(chosen, (chosen, chosen))[1]
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": chosen, "version": version}
