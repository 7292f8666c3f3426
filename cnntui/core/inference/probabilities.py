"""Model outputs as class probabilities, and the most probable classes."""

from __future__ import annotations

from typing import Any

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def to_class_probabilities(raw: np.ndarray, binary: bool, logits: bool) -> np.ndarray:
    """Model output (N, units) as probabilities (N, K); a sigmoid unit becomes [1-p, p]."""
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)
    if binary:
        p = raw[:, 0]
        if logits:
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=1)
    return _softmax(raw) if logits else raw


def top_classes(probs: np.ndarray, class_names: list[str], k: int) -> list[dict[str, Any]]:
    """The ``k`` most probable classes of one image, most probable first."""
    order = np.argsort(-probs, kind="stable")[: max(1, k)]
    return [
        {"label": class_names[i], "index": int(i), "probability": round(float(probs[i]), 6)}
        for i in order
    ]
