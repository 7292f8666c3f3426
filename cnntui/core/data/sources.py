"""What a ``--data SOURCE`` string names: the sample, a Keras dataset, a folder or an npz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cnntui.core.data.errors import DataError

SAMPLE_NAME = "sample"
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
KNOWN_NAMES = (SAMPLE_NAME, *KERAS_DATASETS)


@dataclass(frozen=True)
class Source:
    """A resolved source: ``kind`` is ``sample``, ``keras``, ``folder`` or ``npz``."""

    kind: str
    name: str
    path: Path | None = None


def resolve_source(source: str | None) -> str:
    """Normalise a ``--data`` value; ``None`` or ``""`` means the bundled sample."""
    return SAMPLE_NAME if not source else str(source)


def classify_source(source: str | None) -> Source:
    """Decide what ``source`` is; raise :class:`DataError` for a missing path or unknown name."""
    name = resolve_source(source)
    key = name.lower().replace("-", "_")
    if key == SAMPLE_NAME:
        return Source("sample", SAMPLE_NAME)
    if key in KERAS_DATASETS and not Path(name).exists():
        return Source("keras", key)
    path = Path(name).expanduser()
    if path.is_dir():
        return Source("folder", str(path), path)
    if path.is_file():
        if path.suffix.lower() == ".npz":
            return Source("npz", str(path), path)
        raise DataError(
            f"{path}: not a data source; give a folder of images (one sub-folder per class) "
            "or an .npz file with arrays x and y"
        )
    if "/" in name or "\\" in name or "." in name or path.parent != Path("."):
        raise DataError(f"data path not found: {path}; check the spelling and that it exists")
    raise DataError(
        f"unknown data source {name!r}: not a folder or .npz file here, and not one of "
        f"{', '.join(KNOWN_NAMES)}"
    )
