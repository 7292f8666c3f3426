"""How closely an exported model follows the Keras model: agreement, probabilities,
accuracy and CPU latency, measured on the same images."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]  # float32 batch -> class probabilities
PARITY_BATCH = 32


def predict_all(predict: Predict, x: np.ndarray, batch: int = PARITY_BATCH) -> np.ndarray:
    """Class probabilities for every image of ``x``, ``batch`` at a time."""
    return np.concatenate([predict(x[i : i + batch]) for i in range(0, len(x), batch)])


def latency_ms(predict: Predict, x: np.ndarray, batch: int, repeats: int) -> float | None:
    """Median milliseconds per image over ``repeats`` calls at ``batch`` (one warm-up)."""
    if len(x) == 0:
        return None
    xb = np.resize(x, (batch, *x.shape[1:])) if len(x) < batch else x[:batch]
    predict(xb)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(xb)
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times) / batch


def timings(predict: Predict, x: np.ndarray) -> dict[str, float | None]:
    """``latency_ms_b1`` and ``latency_ms_b32``."""
    return {
        "latency_ms_b1": latency_ms(predict, x, 1, 25),
        "latency_ms_b32": latency_ms(predict, x, 32, 7),
    }


def accuracy(probs: np.ndarray, y: np.ndarray) -> float | None:
    """Top-1 accuracy, ``None`` without examples."""
    return float(np.mean(np.argmax(probs, axis=1) == y)) if len(y) else None


def compare(probs: np.ndarray, reference: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    """Top-1 agreement with ``reference``, largest probability difference, accuracy."""
    if not len(y):
        return {"agreement": None, "max_prob_diff": 0.0, "accuracy": None}
    return {
        "agreement": float(np.mean(np.argmax(probs, 1) == np.argmax(reference, 1))),
        "max_prob_diff": float(np.max(np.abs(probs - reference))),
        "accuracy": accuracy(probs, y),
    }
