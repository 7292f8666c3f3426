"""The folders cnntui keeps caches and downloads in: its own cache folder
(``CNNTUI_CACHE_DIR``, else the XDG cache home: decoded images, JAX's compiled programs) and
Keras's (``KERAS_HOME``: datasets and pretrained weights, as Keras downloads them)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "CNNTUI_CACHE_DIR"


def cache_root() -> Path | None:
    """The user cache folder, or ``None`` when ``CNNTUI_CACHE_DIR`` is ``off``."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        if value.strip().lower() in ("", "off", "none", "0", "false"):
            return None
        return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cnntui"


def keras_home() -> Path:
    """Keras's own folder for downloads (``$KERAS_HOME``, else ``~/.keras``): datasets in
    ``datasets/``, pretrained weights in ``models/``."""
    return Path(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")).expanduser()
