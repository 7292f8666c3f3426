"""The files an export writes beside a model (``labels.txt``, ``preprocessing.json``), found
and read back so an exported model is fed as training fed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnntui.core.images import Preprocessing


def find_sidecar(model_path: Path, name: str) -> Path | None:
    """``name`` inside a SavedModel folder or beside the model file, if there."""
    for folder in ([model_path] if model_path.is_dir() else []) + [model_path.parent]:
        if (folder / name).is_file():
            return folder / name
    return None


def read_preprocessing(path: Path) -> tuple[Preprocessing, dict[str, Any]]:
    """Parse ``preprocessing.json``: the :class:`Preprocessing` and the whole document."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return Preprocessing.from_dict(doc), doc
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise ValueError(
            f"cannot read {path}: {exc}; re-export the model with `cnntui export`"
        ) from None


LABELS = "labels.txt"


PREPROCESSING = "preprocessing.json"
