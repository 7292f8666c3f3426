"""Class weights for imbalanced data: ``auto`` (inverse frequency), ``none`` or a JSON file.

``auto`` is scikit-learn's "balanced" rule, ``n_samples / (n_classes * count)``: every
class contributes the same total weight to the loss, so a 10:1 folder does not teach the
model to always answer the big class. A file maps class names (or indices) to weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def check_class_weight(spec: str | None) -> str | None:
    """``auto``, ``none``/None or an existing JSON file; ValueError otherwise."""
    if spec is None or str(spec).lower() in ("none", ""):
        return None
    if str(spec).lower() == "auto":
        return "auto"
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ValueError(
            f"--class-weight must be auto, none or a JSON file of class -> weight; "
            f"{spec!r} is not a file"
        )
    _read_file(path)
    return str(path.resolve())


def balanced(counts: np.ndarray) -> dict[int, float]:
    """Inverse-frequency weights by class index (the rule of ``data doctor``'s report)."""
    from cnntui.core.data.doctor import class_weights

    weights = class_weights({i: int(c) for i, c in enumerate(np.asarray(counts))})
    return {int(i): float(w) for i, w in weights.items()}


def resolve_class_weight(
    spec: str | None, counts: np.ndarray, class_names: list[str]
) -> dict[int, float] | None:
    """The ``class_weight`` dict for ``model.fit`` (None: unweighted)."""
    if spec is None:
        return None
    if spec == "auto":
        return balanced(counts)
    table = _read_file(Path(spec))
    out = {i: 1.0 for i in range(len(class_names))}
    for key, weight in table.items():
        if key in class_names:
            out[class_names.index(key)] = float(weight)
        elif str(key).isdigit() and int(key) < len(class_names):
            out[int(key)] = float(weight)
        else:
            raise ValueError(
                f"--class-weight {spec}: {key!r} is not a class; classes: {', '.join(class_names)}"
            )
    return out


def _read_file(path: Path) -> dict[str, Any]:
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"--class-weight {path}: not readable JSON ({exc})") from None
    if not isinstance(table, dict) or not all(
        isinstance(v, int | float) and v >= 0 for v in table.values()
    ):
        raise ValueError(
            f'--class-weight {path}: expected an object of class -> weight >= 0, e.g. {{"cat": 2}}'
        )
    return table


def train_class_counts(bundle) -> np.ndarray:
    """Images per class for training: a folder's check counts, else the train labels.

    (A validation share carved out of a folder's train split keeps its proportions.)
    """
    k = bundle.num_classes
    train = ((bundle.check or {}).get("splits") or {}).get("train") or {}
    if train.get("classes"):
        return np.array([train["classes"].get(n, 0) for n in bundle.class_names], np.int64)
    counts = np.zeros(k, np.int64)
    for _, y in bundle.train:
        y = np.asarray(y)
        labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1).astype(int)
        counts += np.bincount(labels, minlength=k)[:k]
    return counts
