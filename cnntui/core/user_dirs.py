"""The user's cnntui cache folder (``CNNTUI_CACHE_DIR``, else the XDG cache home): decoded
images (:mod:`cnntui.core.data.cache`) and JAX's compiled programs live under it."""

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
