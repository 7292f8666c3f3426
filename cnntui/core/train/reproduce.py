"""Reproducing the articles: train the ``tutorial`` entries with their own settings.

Each entry is trained with its article's hyperparameters (only ``epochs`` and ``limit``
may be overridden, early stopping is off as in the articles) on the data at hand, and
the metric the article reported is read back from the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from cnntui.core.train.config import TrainConfig

TUTORIAL_TAG = "tutorial"


@dataclass
class ReproRow:
    """One line of the reproduction table."""

    entry: str
    data: str
    reported: str
    measured: str
    metric: str
    reported_value: float | None
    measured_value: float | None
    epochs: int | None
    run_id: str = ""
    status: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fmt_metric(metric: str, value: float | None, epochs: int | None = None) -> str:
    """``val_accuracy 97.57% @3ep``; ``-`` when unknown."""
    if value is None:
        return "-"
    shown = f"{value:.2%}" if "acc" in metric and value <= 1 else f"{value:.4g}"
    return f"{metric} {shown}" + (f" @{epochs}ep" if epochs else "")


def measured_value(metric: str, metrics: dict[str, Any], loss: str) -> float | None:
    """The reported metric as measured in a run's ``metrics.json`` (final epoch)."""
    final = metrics.get("final") or {}
    test = metrics.get("test") or {}
    if metric in final:
        return final[metric]
    if metric.startswith("test_") and metric[5:] in test:
        return test[metric[5:]]
    if metric.startswith("test_") and f"val_{metric[5:]}" in final:
        return final[f"val_{metric[5:]}"]  # no test split here: validation stands in
    if metric in ("val_mse", "val_mean_squared_error") and loss in ("mse", "mean_squared_error"):
        return final.get("val_loss")
    return None


def reproduce(
    pattern: str | list[str] | None = None,
    *,
    data: str | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    runs_dir: str | None = None,
    zoo: list[str] | None = None,
    sinks: Callable[[], list] | None = None,
) -> list[ReproRow]:
    """Train every tutorial entry matching ``pattern``; one row per entry (failures too)."""
    import keras
    import tensorflow as tf

    from cnntui.core import registry
    from cnntui.core.train.runner import train

    tf.get_logger().setLevel("ERROR")  # retracing notes: one model after another is expected
    registry.load_zoo(zoo or [])
    entries = registry.list_models(pattern or None, TUTORIAL_TAG)
    if not entries:
        raise ValueError(
            f"no tutorial entry matches {pattern!r}; see `cnntui zoo list --tag tutorial`"
        )
    rows = []
    for entry in entries:
        rep = entry.reported
        cfg = TrainConfig(
            entry.name,
            data=data,
            epochs=epochs,
            limit=limit,
            runs_dir=runs_dir,
            zoo=list(zoo or []),
            patience=0,
            name=f"repro-{entry.name}",
        )
        metric = rep.metric or "val_accuracy"
        row = ReproRow(
            entry=entry.name,
            data=data or "sample",
            reported=fmt_metric(metric, rep.value, rep.epochs)
            + (f" on {rep.dataset}" if rep.dataset else ""),
            measured="-",
            metric=metric,
            reported_value=rep.value,
            measured_value=None,
            epochs=epochs or entry.hyperparameters.epochs,
        )
        keras.backend.clear_session()
        try:
            result = train(cfg, sinks=sinks() if sinks else None)
        except Exception as exc:  # noqa: BLE001 - one failing entry must not stop the table
            row.status, row.measured = "failed", f"failed: {' '.join(str(exc).split())[:120]}"
            rows.append(row)
            continue
        loss = result.run.config.get("hyperparameters", {}).get("loss", "")
        value = measured_value(metric, result.metrics, loss)
        counts = result.run.config.get("data", {}).get("counts", {})
        row.run_id, row.status, row.measured_value = result.run_id, result.status, value
        row.measured = fmt_metric(metric, value, result.metrics.get("epochs_completed"))
        if counts:
            row.data = f"{row.data} ({sum(counts.values()):,} images)"
        rows.append(row)
    return rows
