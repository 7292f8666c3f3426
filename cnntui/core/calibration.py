"""Temperature scaling (Guo et al. 2017): one number that softens or sharpens a model's
probabilities, fitted on the run's validation split and stored in the run.

Working on probabilities is exact: ``softmax(log p / T)`` equals ``softmax(z / T)`` for
logits ``z`` (softmax ignores a shared offset), and for a sigmoid head's ``[1 - p, p]`` it
is ``sigmoid(z / T)``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core import metrics
from cnntui.core.atomic import atomic_write_json

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


def _nll(probs: np.ndarray, y: np.ndarray, t: float) -> float:
    p = apply_temperature(probs, t)[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.maximum(p, TINY))))


def fit_temperature(probs: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``y_true``: a coarse
    grid over log T in [-3, 3], then golden-section search around the best point."""
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    if not len(y):
        raise ValueError("cannot fit a temperature on no examples")
    grid = np.linspace(-3.0, 3.0, 61)
    losses = [_nll(probs, y, float(np.exp(g))) for g in grid]
    i = int(np.argmin(losses))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if _nll(probs, y, float(np.exp(a))) < _nll(probs, y, float(np.exp(b))):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def _stamp(path: Path) -> dict[str, Any]:
    st = os.stat(path)
    return {
        "checkpoint": path.name,
        "checkpoint_size": st.st_size,
        "checkpoint_mtime_ns": st.st_mtime_ns,
    }


def summary(cal: dict[str, Any]) -> dict[str, float]:
    return {k: cal[k] for k in ("ece", "mce", "nll", "brier")}


def calibrate_run(
    run_ref: str | None = None, checkpoint: str = "best", unsafe: bool = False, write: bool = True
) -> dict[str, Any]:
    """Fit the temperature of a run's checkpoint on its validation split; store it in
    ``calibration.json`` (atomically) and return what was stored."""
    from cnntui.core.checkpoints import open_model
    from cnntui.core.evaluate import evaluate_batches, load_split

    loaded = open_model(run_ref, unsafe=unsafe, which=checkpoint)
    run = loaded.run
    dataset, source, split, _, notes = load_split(run.config, split="val")
    result = evaluate_batches(loaded, dataset)
    y, probs = result.y_true, result.probs
    t = fit_temperature(probs, y)
    before = metrics.calibration(y, probs, loaded.binary)
    after = metrics.calibration(y, apply_temperature(probs, t), loaded.binary)
    doc = {
        "method": "temperature",
        "temperature": t,
        **_stamp(loaded.path),
        "run": run.id,
        "data": source,
        "split": split,
        "examples": int(len(y)),
        "before": summary(before),
        "after": summary(after),
        "bins_before": before["bins"],
        "bins_after": after["bins"],
        "notes": notes,
        "created": time.time(),
    }
    if write:
        atomic_write_json(run.path(CALIBRATION), doc)
    return doc


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
    stamp = _stamp(Path(loaded.path))
    if any(doc.get(k) != v for k, v in stamp.items()):
        return (
            f"calibration.json was fitted on another {doc.get('checkpoint')} than this one; "
            f"not applied (run `cnntui calibrate {run.id}` again)"
        )
    loaded.temperature = t
    split = doc.get("split")
    return f"calibrated: temperature {t:.3f} (fitted on {split}; --no-calibration to compare)"
