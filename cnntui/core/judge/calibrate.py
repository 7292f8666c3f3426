"""Temperature scaling (Guo et al. 2017) fitted on a run's validation split and stored in
the run (``calibration.json``); :mod:`cnntui.core.inference.calibration` applies it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from cnntui.core.atomic import atomic_write_json
from cnntui.core.inference.calibration import CALIBRATION, TINY, apply_temperature, stamp
from cnntui.core.judge import metrics


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


def summary(cal: dict[str, Any]) -> dict[str, float]:
    return {k: cal[k] for k in ("ece", "mce", "nll", "brier")}


def calibrate_run(
    run_ref: str | None = None, checkpoint: str = "best", unsafe: bool = False, write: bool = True
) -> dict[str, Any]:
    """Fit the temperature of a run's checkpoint on its validation split; store it in
    ``calibration.json`` (atomically) and return what was stored."""
    from cnntui.core.data.run_data import load_split
    from cnntui.core.inference.open import open_model
    from cnntui.core.judge.evaluate import evaluate_batches

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
        **stamp(loaded.path),
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
