"""Opening a model for inspection: a zoo name or a ``.keras`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model_for_inspection(
    ref: str,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
    safe_mode: bool = True,
    builder_args: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """Build zoo entry ``ref`` (with its ``builder_args``) or load ``ref`` as a ``.keras`` file.

    Returns (model, label).
    """
    path = Path(ref).expanduser()
    if path.suffix in (".keras", ".h5") or path.exists():
        if not path.exists():
            raise FileNotFoundError(f"no such model file: {path}")
        if input_shape is not None or num_classes is not None or builder_args:
            raise ValueError(
                "--input-shape, --classes, --width and --depth apply to zoo entries, "
                "not .keras files"
            )
        from cnntui.core.checkpoints import load_keras_model

        return load_keras_model(path, unsafe=not safe_mode), str(path)
    from cnntui.core.registry import get_model

    entry = get_model(ref)
    return entry.build(input_shape, num_classes, **(builder_args or {})), entry.name
