"""Raw arrays of the in-memory sources: the bundled sample, Keras datasets, ``.npz`` files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from cnntui.core.data.errors import DataError
from cnntui.core.data.sources import Source


def sample_path() -> Path:
    """The bundled real MNIST digits (5,000, sorted by label)."""
    return Path(str(resources.files("cnntui") / "assets" / "mnist_5k.npz"))


def read_arrays(src: Source) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    """Raw arrays of an in-memory source: ({"train": (x, y)[, "test": …]}, class_names)."""
    if src.kind == "sample":
        with np.load(sample_path()) as d:
            return {"train": (d["x"], d["y"])}, [str(i) for i in range(10)]
    if src.kind == "keras":
        from cnntui.core.data.keras_datasets import load_keras_dataset

        x, y, xt, yt, names = load_keras_dataset(src.name)
        return {"train": (x, y), "test": (xt, yt)}, names
    if src.kind == "npz":
        return _read_npz(src.path)
    raise DataError(f"{src.name} is not an array source")


def check_npz_names(path: Path, names: list[str]) -> None:
    """Raise :class:`DataError` unless an ``.npz`` file's arrays ``names`` hold x and y."""
    missing = [k for k in ("x", "y") if k not in names]
    if missing:
        raise DataError(
            f"{path}: missing array {' and '.join(missing)}; an .npz source needs x (images) "
            f"and y (integer labels), optionally x_test/y_test; it has "
            f"{', '.join(names) or 'none'}"
        )


def _read_npz(path: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
    except Exception as exc:  # noqa: BLE001 - a broken npz is a user's file problem
        raise DataError(f"{path}: cannot read as .npz ({exc})") from None
    check_npz_names(path, list(arrays))
    out = {"train": (arrays["x"], arrays["y"])}
    if "x_test" in arrays and "y_test" in arrays:
        out["test"] = (arrays["x_test"], arrays["y_test"])
    for split, (x, y) in out.items():
        y = np.asarray(y).reshape(-1)
        if len(x) != len(y):
            raise DataError(f"{path}: {split} has {len(x)} images but {len(y)} labels")
        if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
            raise DataError(f"{path}: labels must be integers 0..K-1; got dtype {y.dtype}")
        out[split] = (x, y)
    k = 1 + max(int(y.max()) for _, y in out.values() if len(y))
    if "class_names" in arrays:
        names = [str(n) for n in arrays["class_names"].reshape(-1)]
        if len(names) < k:
            raise DataError(f"{path}: labels go up to {k - 1} but class_names has {len(names)}")
    else:
        names = [str(i) for i in range(k)]
    if len(names) < 2:
        raise DataError(f"{path}: only one class; a classifier needs at least two")
    return out, names
