"""Classifier metrics in plain numpy, on integer labels and per-class probabilities.

Conventions: ``y_true``/``y_pred`` are int arrays (N,); ``probs`` is float (N, K) with one
column per class (a one-unit sigmoid head is turned into ``[1 - p, p]`` before it gets
here); the confusion matrix has true classes as rows and predictions as columns.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EPSILON = 1e-7  # Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps]
IBA_ALPHA = 0.1  # index of balanced accuracy weight, as imbalanced-learn reports it


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (K, K): row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def row_normalise(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total (a row with no examples stays 0)."""
    totals = cm.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(cm, totals, out=np.zeros(cm.shape, dtype=np.float64), where=totals > 0)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, specificity, F1, geometric mean, IBA and support per class.

    Undefined ratios (a class never predicted, or never present) count as 0, as
    scikit-learn and imbalanced-learn report them.
    """
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum()
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = total - tp - fp - fn
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)
    specificity = _safe_div(tn, tn + fp)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    gmean = np.sqrt(recall * specificity)
    iba = (1 + IBA_ALPHA * (recall - specificity)) * gmean**2
    return {
        "precision": precision,
        "recall": recall,
        "specificity": specificity,
        "f1": f1,
        "geometric_mean": gmean,
        "iba": iba,
        "support": (tp + fn).astype(np.int64),
    }


def averages(table: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Macro (unweighted) and support-weighted means of every per-class column."""
    support = table["support"].astype(np.float64)
    out: dict[str, dict[str, float]] = {"macro": {}, "weighted": {}}
    for name, col in table.items():
        if name == "support":
            continue
        out["macro"][name] = float(np.mean(col)) if len(col) else 0.0
        out["weighted"][name] = float(np.average(col, weights=support)) if support.sum() else 0.0
    out["macro"]["support"] = out["weighted"]["support"] = int(support.sum())
    return out


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their average rank."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    # boundaries of runs of equal values
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_x)) + 1]
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U, ties count half); ``None`` if undefined."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(scores)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_auc_ovr(y_true: np.ndarray, probs: np.ndarray) -> list[float | None]:
    """One-vs-rest ROC AUC per class (``None`` where a class is absent or alone)."""
    y_true = np.asarray(y_true).reshape(-1)
    return [roc_auc(probs[:, k], y_true == k) for k in range(probs.shape[1])]


def top_k_accuracy(y_true: np.ndarray, probs: np.ndarray, k: int) -> float:
    """Share of examples whose true class is among the ``k`` highest probabilities.

    Ties are broken in favour of the lower class index, as ``argsort`` does.
    """
    y_true = np.asarray(y_true).reshape(-1)
    if len(y_true) == 0:
        return 0.0
    k = max(1, min(k, probs.shape[1]))
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == y_true[:, None], axis=1)))


def cross_entropy(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per-example cross-entropy ``-log p(true class)``, clipped like Keras."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.clip(probs[np.arange(len(y_true)), y_true].astype(np.float64), EPSILON, 1 - EPSILON)
    return -np.log(p)


def squared_error(y_true: np.ndarray, probs: np.ndarray, binary: bool = False) -> np.ndarray:
    """Per-example mean squared error, as Keras's ``mean_squared_error`` on the model output.

    ``binary``: a one-unit sigmoid head, so the output is ``p(class 1)`` against a 0/1 label;
    otherwise the K probabilities against the one-hot label, averaged over K.
    """
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = np.asarray(probs, dtype=np.float64)
    if binary:
        return (y_true - probs[:, 1]) ** 2
    onehot = np.eye(probs.shape[1])[y_true]
    return np.mean((onehot - probs) ** 2, axis=1)


CROSS_ENTROPY_LOSSES = (
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
)  # fmt: skip
SQUARED_ERROR_LOSSES = ("mean_squared_error", "mse")


def example_losses(
    loss: str, y_true: np.ndarray, probs: np.ndarray, binary: bool = False
) -> tuple[str, np.ndarray]:
    """Per-example ``loss`` (cross-entropy or squared error); others fall back to
    cross-entropy. Returns the name of the loss actually computed and the values."""
    if loss in SQUARED_ERROR_LOSSES:
        return "mean_squared_error", squared_error(y_true, probs, binary)
    name = loss if loss in CROSS_ENTROPY_LOSSES else "crossentropy"
    return name, cross_entropy(y_true, probs)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation coefficient; ``None`` if either side is constant."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(x) < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy / denom) if denom > 0 else None


def threshold_sweep(
    scores: np.ndarray, positive: np.ndarray, thresholds: np.ndarray | None = None
) -> list[dict[str, float]]:
    """For two classes: accuracy, precision, recall, F1 when predicting positive at score ≥ t."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    if thresholds is None:
        thresholds = np.round(np.linspace(0.05, 0.95, 19), 2)
    rows = []
    for t in thresholds:
        pred = scores >= t
        tp = int(np.sum(pred & positive))
        fp = int(np.sum(pred & ~positive))
        fn = int(np.sum(~pred & positive))
        tn = int(np.sum(~pred & ~positive))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "threshold": float(t),
                "accuracy": (tp + tn) / len(scores) if len(scores) else 0.0,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "tn": tn,
            }
        )
    return rows


def best_threshold(sweep: list[dict[str, float]]) -> dict[str, float]:
    """The sweep row with the highest accuracy (the threshold closest to 0.5 on ties)."""
    return max(sweep, key=lambda r: (r["accuracy"], -abs(r["threshold"] - 0.5)))


def most_confused(cm: np.ndarray, limit: int = 10) -> list[dict[str, Any]]:
    """Off-diagonal cells, largest count first: ``true``, ``predicted``, ``count``, ``rate``."""
    rates = row_normalise(cm)
    cells = [
        (int(cm[t, p]), t, p)
        for t in range(cm.shape[0])
        for p in range(cm.shape[1])
        if t != p and cm[t, p] > 0
    ]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        {"true": t, "predicted": p, "count": n, "rate": float(rates[t, p])}
        for n, t, p in cells[:limit]
    ]


def highest_loss(losses: np.ndarray, limit: int = 20) -> np.ndarray:
    """Indices of the ``limit`` examples with the highest loss, highest first."""
    losses = np.asarray(losses).reshape(-1)
    return np.argsort(-losses, kind="stable")[:limit]


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman rank correlation (ties share their average rank); ``None`` if constant."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    return pearson(_average_ranks(x), _average_ranks(y))


CALIBRATION_BINS = 15


def reliability_bins(
    y_true: np.ndarray, probs: np.ndarray, n_bins: int = CALIBRATION_BINS
) -> dict[str, Any]:
    """Top-label calibration (Guo et al. 2017): equal-width confidence bins ``(lo, hi]``.

    Returns ``ece`` (support-weighted mean |accuracy - confidence|), ``mce`` (the largest
    gap over non-empty bins) and ``bins`` [{lo, hi, count, confidence, accuracy}].
    """
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1) if len(probs) else np.zeros(0)
    correct = (probs.argmax(axis=1) == y_true) if len(probs) else np.zeros(0, bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    bins, ece, mce = [], 0.0, 0.0
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        row: dict[str, Any] = {"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": count}
        if count:
            c, a = float(conf[mask].mean()), float(correct[mask].mean())
            row.update(confidence=c, accuracy=a)
            ece += count / len(conf) * abs(a - c)
            mce = max(mce, abs(a - c))
        else:
            row.update(confidence=None, accuracy=None)
        bins.append(row)
    return {"ece": float(ece), "mce": float(mce), "bins": bins}


def brier_score(y_true: np.ndarray, probs: np.ndarray, binary: bool = False) -> float:
    """Mean squared error of the probabilities against the one-hot label, summed over
    classes (Brier 1950); for two classes (``binary``) the usual ``(p1 - y)^2``."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    probs = np.asarray(probs, dtype=np.float64)
    if not len(y_true):
        return 0.0
    if binary:
        return float(np.mean((probs[:, 1] - y_true) ** 2))
    onehot = np.eye(probs.shape[1])[y_true]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def calibration(y_true: np.ndarray, probs: np.ndarray, binary: bool = False) -> dict[str, Any]:
    """ECE, MCE (15 bins), negative log-likelihood, Brier score and the reliability bins."""
    rel = reliability_bins(y_true, probs)
    nll = float(np.mean(cross_entropy(y_true, probs))) if len(probs) else 0.0
    return {
        "ece": rel["ece"],
        "mce": rel["mce"],
        "nll": nll,
        "brier": brier_score(y_true, probs, binary),
        "bins": rel["bins"],
    }


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> dict[str, list[float]]:
    """False and true positive rates at every distinct score threshold, from (0, 0) to (1, 1)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    order = np.argsort(-scores, kind="mergesort")
    s, p = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the end of each run of ties
    tp, fp = np.cumsum(p)[last], np.cumsum(~p)[last]
    n_pos, n_neg = max(int(p.sum()), 1), max(int((~p).sum()), 1)
    return {
        "fpr": [0.0, *(fp / n_neg).tolist()],
        "tpr": [0.0, *(tp / n_pos).tolist()],
        "thresholds": [float("inf"), *s[last].tolist()],
    }


def pr_curve(scores: np.ndarray, positive: np.ndarray) -> dict[str, Any]:
    """Precision and recall at every distinct threshold, and average precision
    (the step-wise area, as scikit-learn computes it)."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    order = np.argsort(-scores, kind="mergesort")
    s, p = scores[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(p)[last].astype(np.float64)
    predicted = (last + 1).astype(np.float64)
    n_pos = int(p.sum())
    precision = tp / predicted
    recall = tp / n_pos if n_pos else np.zeros_like(tp)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision)) if n_pos else None
    return {
        "precision": [1.0, *precision.tolist()],
        "recall": [0.0, *recall.tolist()],
        "thresholds": [float("inf"), *s[last].tolist()],
        "average_precision": ap,
    }


def thin_curve(curve: dict[str, Any], keys: tuple[str, str], limit: int = 200) -> dict[str, Any]:
    """At most ``limit`` evenly spaced points of a curve (ends kept), for reports."""
    n = len(curve[keys[0]])
    if n <= limit:
        return curve
    idx = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    return {k: ([v[i] for i in idx] if isinstance(v, list) else v) for k, v in curve.items()}
