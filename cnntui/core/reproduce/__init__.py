"""Reproducing the articles: each tutorial entry on its own data, protocol and metric.

:func:`reproduce` plans every selected ``tutorial`` entry (:mod:`.plan`: which data, or
why not run), trains it with its article's protocol (its epochs, batch size, learning
rate and optimizer, the ``article`` recipe, its pixel scaling, validation on the test set
where the article did, early stopping only where it used it) and measures the article's
own figures (:mod:`.figures`), every one its entry records: accuracy at the best of ten
thresholds, Pearson r and validation MSE for the two-class entries; test accuracy and the
validation peak; validation accuracy and loss, epoch time (shown, not judged), class-0
precision, the first four validation images. Each is shown with the tolerance it is judged by.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnntui.core.formats import markdown_table
from cnntui.core.registry import ModelEntry
from cnntui.core.reproduce.figures import (
    Figure,
    binary_figures,
    make_figure,
    metric_kind,
    tolerance_text,
)
from cnntui.core.reproduce.plan import Plan, check_mapping, parse_data, plan_entry

TUTORIAL_TAG = "tutorial"
BINARY_METRICS = ("best_threshold_accuracy", "pearson", "val_mse")
EVALUATED = ("precision_class0", "first4_test_accuracy")
"""Figures measured from the model's outputs on the validation data (in its order)."""
HEADER = [
    "entry", "data", "metric", "article", "measured", "difference", "tolerance", "reproduced",
    "run",
]  # fmt: skip

__all__ = ["ReproRow", "markdown", "reproduce"]


@dataclass
class ReproRow:
    """One entry of the reproduction: its data, status, terms and figures."""

    entry: str
    data: str
    status: str  # finished | failed | stopped | not run
    terms: str  # "article" or what differs from the article's protocol
    figures: list[Figure] = field(default_factory=list)
    run_id: str = ""
    reason: str = ""
    command: str = ""
    epochs: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "data": self.data,
            "status": self.status,
            "terms": self.terms,
            "epochs": self.epochs,
            "run_id": self.run_id or None,
            "reason": self.reason,
            "command": self.command or None,
            "notes": list(self.notes),
            "figures": [f.to_dict() for f in self.figures],
        }


def article_metrics(entry: ModelEntry) -> list[tuple[str, float | None]]:
    """Every figure to compare: the headline metric first, then the article's others.

    A two-class entry shows all of :data:`BINARY_METRICS`, ``None`` where its article
    does not state that one.
    """
    r = entry.reported
    out = [(r.metric or "val_accuracy", r.value)]
    out += [(k, v) for k, v in r.figures.items() if k != out[0][0]]
    if any(m in BINARY_METRICS for m, _ in out):
        out += [(m, None) for m in BINARY_METRICS if m not in dict(out)]
    return out


def _fmt(metric: str, value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    kind = metric_kind(metric)
    if kind == "accuracy":
        return f"{value * 100:+.2f} pt" if signed else f"{value:.2%}"
    if kind == "seconds":
        return f"{value:+.0f} s" if signed else f"{value:.0f} s"
    digits = 4 if kind == "loss" else 3  # the articles print losses to 4 places (0.0621)
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _fmt_tolerance(f: Figure) -> str:
    if f.tolerance is None:
        return "not judged"
    if metric_kind(f.metric) == "accuracy":
        return f"±{f.tolerance * 100:.2f} pt"
    return f"±{f.tolerance:.3f}"


def _shown(row: ReproRow, f: Figure) -> str:
    if f.reproduced is None and f.measured is not None:
        if f.tolerance is None:
            return "n/a: machine-dependent"
        if f.article is None:
            return "n/a: not stated"
        if row.terms != "article":
            return "n/a: " + row.terms
    return {True: "yes", False: "no", None: "-"}[f.reproduced]


def markdown(rows: list[ReproRow], tolerance: float | None = None) -> str:
    """The reproduction table (one line per figure), its rule and the commands not run."""
    table = []
    for row in rows:
        status = "" if row.status == "finished" else row.status
        for i, f in enumerate(row.figures or [make_figure("-", None, None)]):
            first = i == 0
            table.append(
                [
                    row.entry if first else "",
                    (row.data if row.status != "not run" else "-") if first else "",
                    f.metric,
                    "not stated" if f.article is None else _fmt(f.metric, f.article),
                    status or _fmt(f.metric, f.measured),
                    _fmt(f.metric, f.difference, signed=True),
                    _fmt_tolerance(f),
                    _shown(row, f),
                    row.run_id if first else "",
                ]
            )
    lines = [markdown_table(table, HEADER), "", tolerance_text(tolerance)]
    lines += [f"{r.entry}: {r.reason}" for r in rows if r.status in ("failed", "stopped")]
    lines += [f"{r.entry}: {note}" for r in rows for note in r.notes]
    lines += _not_run_lines(rows)
    return "\n".join(lines)


def _not_run_lines(rows: list[ReproRow]) -> list[str]:
    """Entries not run, grouped by what they need, each group with its command."""
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.status == "not run":
            groups.setdefault((r.reason, r.command.rpartition("=")[2]), []).append(r.entry)
    lines = []
    for (needs, target), names in groups.items():
        prefix = os.path.commonprefix(names)
        pattern = f"{prefix}*" if len(names) > 1 else names[0]
        if len(names) > 1 and any(
            fnmatch.fnmatch(r.entry, pattern) and r.entry not in names for r in rows
        ):
            pattern = names[0]  # the prefix would take in others: one command per entry
        chosen = [pattern] if pattern.endswith("*") else names
        lines += ["", f"not run: {', '.join(names)}: {needs}"]
        lines += [f"  cnntui reproduce '{p}' --data '{p}={target}'" for p in chosen]
    return lines


def measure(
    entry: ModelEntry,
    metrics: dict[str, Any],
    run_ref: str,
    split: str,
    positive_class: str | None,
) -> tuple[dict[str, float | None], list[str]]:
    """The article's figures as measured in a finished run, and notes on how.

    ``run_ref``: the run's folder (or its id in the default runs folder).

    Figures of the model's outputs (:data:`BINARY_METRICS`, :data:`EVALUATED`) come from
    evaluating its last checkpoint on the validation data; the others from the run's
    record (``val_accuracy_peak``: the best epoch's, ``epoch_seconds``: the mean epoch).
    """
    from cnntui.core.runs import resolve_run

    wanted = [m for m, _ in article_metrics(entry)]
    out: dict[str, float | None] = {}
    notes: list[str] = []
    if any(m in BINARY_METRICS or m in EVALUATED for m in wanted):
        result = _evaluate(entry, run_ref, split, positive_class)
        out.update(_from_outputs(result, wanted, notes))
    epochs = [e for e in resolve_run(run_ref).events() if e.get("event") == "epoch"]
    for m in wanted:
        if m not in out:
            out[m] = _from_record(m, metrics, epochs, notes)
    return out, notes


def _from_record(
    metric: str, metrics: dict[str, Any], epochs: list[dict[str, Any]], notes: list[str]
) -> float | None:
    """One figure from the run's metrics and its epoch events."""
    final, test = metrics.get("final") or {}, metrics.get("test") or {}
    if metric == "test_accuracy":
        if test.get("accuracy") is None and "val_accuracy" in final:
            notes.append("no test split: the validation accuracy stands in for test")
            return final["val_accuracy"]
        return test.get("accuracy")
    if metric == "train_accuracy":
        return final.get("accuracy")
    if metric == "val_accuracy_peak":
        seen = [e["logs"]["val_accuracy"] for e in epochs if "val_accuracy" in e.get("logs", {})]
        return max(seen) if seen else None
    if metric == "epoch_seconds":
        seconds = [e["seconds"] for e in epochs if e.get("seconds")]
        return sum(seconds) / len(seconds) if seconds else None
    return final.get(metric)


def _evaluate(entry: ModelEntry, run_ref: str, split: str, positive_class: str | None):
    """The last checkpoint's outputs on the validation data, in the data's order."""
    from cnntui.core.judge.evaluate import evaluate_run

    name = (
        (positive_class or entry.reported.positive_class or None)
        if entry.num_classes == 2
        else None
    )
    result, _ = evaluate_run(
        run_ref, split=split, checkpoint="last", write=False, calibration=False,
        positive_class=name,
    )  # fmt: skip
    return result


def _from_outputs(result, wanted: list[str], notes: list[str]) -> dict[str, float | None]:
    """The figures of the model's outputs: two-class ones, class-0 precision, first four."""
    import numpy as np

    from cnntui.core.judge import metrics

    out: dict[str, float | None] = {}
    predicted = result.probs.argmax(axis=1)
    if any(m in BINARY_METRICS for m in wanted):
        pos = result.positive
        scores, labels = result.probs[:, pos], result.y_true == pos
        figures = binary_figures(scores, labels.astype(np.float64))
        notes.append(
            f"positive class {result.class_names[pos]} (score = its probability, label 1); "
            f"best of ten thresholds at {figures.pop('threshold'):.2f}; {len(labels)} images"
        )
        out.update(figures)
    if "precision_class0" in wanted:
        cm = metrics.confusion_matrix(result.y_true, predicted, len(result.class_names))
        out["precision_class0"] = float(metrics.per_class(cm)["precision"][0])
        notes.append(f"precision_class0: class {result.class_names[0]}")
    if "first4_test_accuracy" in wanted and len(result.y_true) >= 4:
        names = result.class_names
        out["first4_test_accuracy"] = float(np.mean(predicted[:4] == result.y_true[:4]))
        notes.append(
            f"first 4 validation images: predicted {', '.join(names[i] for i in predicted[:4])}; "
            f"labels {', '.join(names[i] for i in result.y_true[:4])}"
        )
    return out


def _terms(plan: Plan, epochs: int | None, limit: int | None) -> str:
    changed = [] if plan.article_data else ["not the article's data"]
    changed += [f"--epochs {epochs}"] if epochs else []
    changed += [f"--limit {limit}"] if limit else []
    return "; ".join(changed) or "article"


def reproduce(
    pattern: str | list[str] | None = None,
    *,
    data: list[str] | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    runs_dir: str | None = None,
    zoo: list[str] | None = None,
    positive_class: str | None = None,
    tolerance: float | None = None,
    seed: int = 0,
    sinks: Callable[[], list] | None = None,
) -> list[ReproRow]:
    """Reproduce every tutorial entry matching ``pattern``; one row per entry.

    ``data``: ``--data`` values (see :mod:`.plan`). Raises :class:`ConfigError` for bad
    options before any training.
    """
    from cnntui.core import registry
    from cnntui.core.errors import ConfigError

    registry.load_zoo(zoo or [])
    entries = registry.list_models(pattern or None, TUTORIAL_TAG)
    if not entries:
        raise ConfigError(
            f"no tutorial entry matches {pattern!r}; see `cnntui zoo list --tag tutorial`"
        )
    default, mapping = parse_data(data)
    check_mapping(mapping, [e.name for e in entries])
    plans = [plan_entry(e, default, mapping) for e in entries]
    rows = []
    for plan in plans:
        if plan.source is None:
            figures = [make_figure(m, v, None, tolerance) for m, v in article_metrics(plan.entry)]
            rows.append(
                ReproRow(plan.entry.name, plan.label, "not run", "article", figures,
                         reason=plan.not_run, command=plan.command)
            )  # fmt: skip
            continue
        rows.append(
            _run(plan, epochs, limit, runs_dir, zoo, positive_class, tolerance, seed, sinks)
        )
    return rows


def _run(plan, epochs, limit, runs_dir, zoo, positive_class, tolerance, seed, sinks) -> ReproRow:
    import keras

    from cnntui.core import backend
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.train.runner import train

    if backend.is_tensorflow():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # retracing notes: one model after another is expected
    entry, r = plan.entry, plan.entry.reported
    terms = _terms(plan, epochs, limit)
    row = ReproRow(entry.name, plan.label, "", terms, epochs=epochs or entry.hyperparameters.epochs)
    cfg = TrainConfig(
        entry.name, data=plan.source, epochs=epochs, limit=limit, runs_dir=runs_dir,
        zoo=list(zoo or []), patience=r.patience, name=f"repro-{entry.name}", recipe="article",
        validate_on=plan.validate_on, rescale=r.rescale, seed=seed,
    )  # fmt: skip
    keras.backend.clear_session()
    try:
        result = train(cfg, sinks=sinks() if sinks else None)
    except Exception as exc:  # noqa: BLE001 - one failing entry must not stop the table
        row.status, row.reason = "failed", " ".join(str(exc).split())[:200]
        row.figures = [make_figure(m, v, None, tolerance) for m, v in article_metrics(entry)]
        return row
    row.run_id, row.status, row.reason = result.run_id, result.status, result.reason or ""
    counts = result.run.config.get("data", {}).get("counts", {})
    if counts:
        row.data += " (" + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ")"
    measured: dict[str, float | None] = {}
    if result.status == "finished":
        split = "test" if plan.validate_on == "test" else "val"
        try:
            measured, row.notes = measure(
                entry, result.metrics, str(result.run.dir), split, positive_class
            )
        except Exception as exc:  # noqa: BLE001 - the run stands; say why it was not measured
            row.notes = [f"not measured: {' '.join(str(exc).split())[:200]}"]
    row.epochs = result.metrics.get("epochs_completed", row.epochs)
    row.figures = [
        make_figure(m, v, measured.get(m), tolerance, comparable=terms == "article")
        for m, v in article_metrics(entry)
    ]
    return row
