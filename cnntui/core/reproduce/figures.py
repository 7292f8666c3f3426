"""The articles' metrics and the comparison of one figure with what the article reported.

Numpy only. Two-class figures follow the cats-vs-dogs article: a score per image (the
probability of the positive class), accuracy at the best of ten thresholds, the Pearson
correlation between score and label, and the mean squared error of the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnntui.core.judge import metrics

TEN_THRESHOLDS = np.round(np.linspace(0.05, 0.95, 10), 2)
"""0.05, 0.15, … 0.95: the centres of ten equal score bins."""
TOLERANCES = {"accuracy": 0.02, "pearson": 0.05, "mse": 0.03, "loss": 0.05}
"""Largest |measured - article| that still counts as reproduced, by kind of metric."""
INFORMATIONAL = ("seconds",)
"""Kinds shown beside the article's figure but never judged (they depend on the machine)."""


def metric_kind(metric: str) -> str:
    """``accuracy``, ``pearson``, ``mse``, ``loss`` or ``seconds``.

    Accuracy covers every proportion (precision too); the first four key :data:`TOLERANCES`.
    """
    if "pearson" in metric:
        return "pearson"
    if "mse" in metric or "squared" in metric:
        return "mse"
    if "seconds" in metric:
        return "seconds"
    if "loss" in metric:
        return "loss"
    return "accuracy"


def tolerance_text(override: float | None = None) -> str:
    """The rule, for the line under the table."""
    info = f"; {', '.join(INFORMATIONAL)}: shown, not judged (machine-dependent)"
    if override is not None:
        return f"reproduced: |measured - article| <= {override:g}{info}"
    parts = ", ".join(f"{k} {v:g}" for k, v in TOLERANCES.items())
    return f"reproduced: |measured - article| <= tolerance ({parts}){info}"


@dataclass
class Figure:
    """One number: what the article reported and what was measured."""

    metric: str
    article: float | None
    measured: float | None
    tolerance: float | None  # None: informational, never judged
    comparable: bool = True  # False: not on the article's data or protocol

    @property
    def difference(self) -> float | None:
        if self.article is None or self.measured is None:
            return None
        return self.measured - self.article

    @property
    def reproduced(self) -> bool | None:
        """Within tolerance; ``None`` when there is nothing to compare (or not comparable)."""
        diff = self.difference
        if diff is None or not self.comparable or self.tolerance is None:
            return None
        return abs(diff) <= self.tolerance + 1e-12

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "article": self.article,
            "measured": self.measured,
            "difference": self.difference,
            "tolerance": self.tolerance,
            "reproduced": self.reproduced,
        }


def make_figure(
    metric: str,
    article: float | None,
    measured: float | None,
    tolerance: float | None = None,
    comparable: bool = True,
) -> Figure:
    """A :class:`Figure` with the tolerance of its kind unless one is given.

    An informational kind (:data:`INFORMATIONAL`) has no tolerance, whatever is given.
    """
    kind = metric_kind(metric)
    if kind in INFORMATIONAL:
        tol = None
    else:
        tol = TOLERANCES[kind] if tolerance is None else tolerance
    return Figure(metric, article, measured, tol, comparable)


def binary_figures(scores: np.ndarray, positive: np.ndarray) -> dict[str, float | None]:
    """The cats-vs-dogs article's figures from positive-class scores and 0/1 labels.

    ``best_threshold_accuracy`` (and its ``threshold``): the best accuracy when predicting
    positive at score >= t, over :data:`TEN_THRESHOLDS`; ``pearson``: correlation of score
    and label; ``val_mse``: mean of (score - label)^2.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(positive, dtype=bool).reshape(-1)
    best = metrics.best_threshold(metrics.threshold_sweep(scores, labels, TEN_THRESHOLDS))
    return {
        "best_threshold_accuracy": float(best["accuracy"]),
        "threshold": float(best["threshold"]),
        "pearson": metrics.pearson(scores, labels.astype(np.float64)),
        "val_mse": float(np.mean((scores - labels) ** 2)) if len(scores) else None,
    }
