"""Temperature scaling (Guo et al. 2017) applied: one number that softens or sharpens a
model's probabilities, fitted by :mod:`cnntui.core.judge.calibrate` and stored in the run.

Working on probabilities is exact: ``softmax(log p / T)`` equals ``softmax(z / T)`` for
logits ``z`` (softmax ignores a shared offset), and for a sigmoid head's ``[1 - p, p]`` it
is ``sigmoid(z / T)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION = "calibration.json"
TINY = 1e-300


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Class probabilities (N, K) rescaled by ``temperature`` (1 leaves them as they are)."""
    probs = np.asarray(probs, dtype=np.float64)
    if temperature == 1.0 or not len(probs):
        return probs
    z = np.log(np.maximum(probs, TINY)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def stamp(path: Path) -> dict[str, Any]:
    """What identifies the checkpoint file a temperature was fitted on."""
    st = os.stat(path)
    return {
        "checkpoint": path.name,
        "checkpoint_size": st.st_size,
        "checkpoint_mtime_ns": st.st_mtime_ns,
    }


def use_run_calibration(loaded: Any) -> str | None:
    """Apply the run's stored temperature to ``loaded`` (sets ``loaded.temperature``) when
    it was fitted on this very checkpoint file; returns a note for people, or None."""
    import json

    run = getattr(loaded, "run", None)
    if run is None or not run.path(CALIBRATION).exists():
        return None
    try:
        doc = json.loads(run.path(CALIBRATION).read_text(encoding="utf-8"))
        t = float(doc["temperature"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{run.path(CALIBRATION)} is unreadable; run `cnntui calibrate {run.id}` again"
    fitted_on = stamp(Path(loaded.path))
    if any(doc.get(k) != v for k, v in fitted_on.items()):
        return (
            f"calibration.json was fitted on another {doc.get('checkpoint')} than this one; "
            f"not applied (run `cnntui calibrate {run.id}` again)"
        )
    loaded.temperature = t
    split = doc.get("split")
    return f"calibrated: temperature {t:.3f} (fitted on {split}; --no-calibration to compare)"
