"""What a run records about the software it ran on (``config.json``'s ``versions``)."""

from __future__ import annotations

import sys
from importlib import metadata

from cnntui.core import backend


def versions() -> dict[str, str]:
    """Versions of cnntui, Keras, TensorFlow, the Keras backend's package and Python
    (without importing any of them)."""
    out = {"python": sys.version.split()[0]}
    for name in ("cnntui", "keras", "tensorflow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    info = backend.describe()
    out[info["name"]] = info["version"]
    return out
