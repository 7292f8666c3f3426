"""Opening a model for inspection: a zoo name or a ``.keras`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model_for_inspection(
    ref: str,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
    safe_mode: bool = True,
) -> tuple[Any, str]:
    """Build zoo entry ``ref`` or load ``ref`` as a ``.keras`` file; return (model, label)."""
    path = Path(ref).expanduser()
    if path.suffix in (".keras", ".h5") or path.exists():
        if not path.exists():
            raise FileNotFoundError(f"no such model file: {path}")
        if input_shape is not None or num_classes is not None:
            raise ValueError("--input-shape and --classes apply to zoo entries, not .keras files")
        from cnntui.core.checkpoints import load_keras_model

        return load_keras_model(path, unsafe=not safe_mode), str(path)
    from cnntui.core.registry import get_model

    entry = get_model(ref)
    return entry.build(input_shape, num_classes), entry.name
