"""How every view writes a run's numbers: durations, reported metrics, rates, event lines.

One home for the text of a run, shared by ``cnntui train``'s output, ``cnntui runs`` and the
TUI, so an ETA or a validation accuracy reads the same everywhere.
"""

from __future__ import annotations

import math
from typing import Any

SHORT = {"accuracy": "acc", "val_accuracy": "val_acc", "learning_rate": "lr"}
ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")


def fmt_duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``12s``; ``-`` when unknown."""
    if not isinstance(seconds, (int, float)) or seconds != seconds or seconds < 0:
        return "-"
    if math.isinf(seconds):
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def count(n: Any, noun: str) -> str:
    """``1 epoch``, ``3 epochs``, ``1,000 images``: the noun plural unless ``n`` is 1."""
    number = f"{n:,}" if isinstance(n, int) else str(n)
    return f"{number} {noun if n == 1 else noun + 's'}"


def epoch_of(epoch: Any, epochs: Any, estimated: bool = False, width: int = 0) -> str:
    """``epoch 2/5``; ``epoch 2/~72`` when the total is a time budget's projection."""
    total = f"~{epochs}" if estimated and epochs else f"{epochs or '?'}"
    return f"epoch {epoch:>{width}}/{total}"


def fmt_metric(key: str, value: Any, pct: bool = False) -> str:
    """A reported metric: ``0.9712`` (``97.12%`` with ``pct``), a learning rate ``1.0e-03``.

    ``-`` when there is no number; ``nan`` for a NaN (or infinite) value.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    if not math.isfinite(value):
        return "nan"
    if key.endswith("learning_rate") or key == "lr":
        return f"{value:.1e}"
    return f"{value:.2%}" if pct else f"{value:.4f}"


def fmt_logs(logs: dict[str, Any], keys: tuple[str, ...] | None = None) -> str:
    """``loss 0.1234  acc 0.9712 …`` with the usual metrics first, the learning rate last.

    A ``None`` in logs is a NaN the writer could not store as JSON: it reads ``nan``.
    """
    ordered = [k for k in ORDER if k in logs]
    ordered += sorted(k for k in logs if k not in ORDER and k != "learning_rate")
    if "learning_rate" in logs:
        ordered.append("learning_rate")
    if keys is not None:
        ordered = [k for k in ordered if k in keys]
    return "  ".join(
        f"{SHORT.get(k, k)} {fmt_metric(k, math.nan if logs[k] is None else logs[k])}"
        for k in ordered
    )


def markdown_table(rows: list[list[str]], header: list[str]) -> str:
    """A GitHub-flavoured Markdown table (``|`` inside a cell escaped)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)])


def fmt_rate(images_per_sec: float | None) -> str:
    """``1,234 img/s``; ``- img/s`` when unknown."""
    return f"{images_per_sec:,.0f} img/s" if images_per_sec else "- img/s"


def fit_fields(fields: list[str], width: int, sep: str = " · ") -> str:
    """Join ``fields`` (most important first), leaving out whole fields that do not fit."""
    out = ""
    for field in fields:
        if not field:
            continue
        candidate = f"{out}{sep}{field}" if out else field
        if len(candidate) <= width:
            out = candidate
        elif not out:
            return field[:width]
    return out


def describe_skipped(event: dict[str, Any], limit: int = 10) -> str:
    """Lines naming the unreadable files a ``begin`` event says were skipped (or "")."""
    count = int(event.get("skipped") or 0)
    if not count:
        return ""
    files = event.get("skipped_files") or []
    out = [f"\nskipped {count} unreadable file{'s' if count != 1 else ''} (all in skipped.txt):"]
    out += [f"  {f.get('path')}: {f.get('reason')}" for f in files[:limit]]
    if count > min(limit, len(files)):
        out.append(f"  … and {count - min(limit, len(files))} more")
    return "\n".join(out)


def describe_recipe(event: dict[str, Any]) -> str:
    """The begin event's input size (and why), recipe and class-weight lines, when present."""
    out = ""
    choice = event.get("input") or {}
    if choice.get("shape"):
        out += f"\ninput {'x'.join(map(str, choice['shape']))}: {choice.get('reason', '')}"
    if event.get("recipe"):
        out += f"\n{event['recipe']}"
    if event.get("class_weight"):
        pairs = ", ".join(f"{k} {v:g}" for k, v in event["class_weight"].items())
        out += f"\nclass weights: {pairs}"
    return out


def epoch_fields(event: dict[str, Any]) -> list[str]:
    """An ``epoch`` event as fields, most important first (see :func:`fit_fields`)."""
    width = len(str(event.get("epochs", "")))
    logs = event.get("logs") or {}
    estimated = bool(event.get("epochs_estimated"))
    fields = [epoch_of(event["epoch"], event.get("epochs"), estimated, width)]
    fields += [fmt_logs(logs, (k,)) for k in (*ORDER, *sorted(set(logs) - set(ORDER)))]
    fields += [
        f"{event.get('seconds') or 0:.1f}s",
        fmt_rate(event.get("images_per_sec")),
        f"eta {fmt_duration(event.get('eta_seconds'))}",
    ]
    lr = [f for f in fields if f.startswith("lr ")]
    return [f for f in fields if f and not f.startswith("lr ")] + lr


def describe(event: dict[str, Any]) -> str | None:
    """One line for an event, or ``None`` for events a log should not show (batches)."""
    kind = event.get("event")
    if kind == "begin":
        start = event.get("initial_epoch") or 0
        resumed = f", resuming after epoch {start}" if start else ""
        return (
            (
                f"training {event.get('model')} (run {event.get('run_id')})"
                + (f" on {event['backend']}" if event.get("backend") else "")
                + ": "
                f"{'~' if event.get('epochs_estimated') else ''}"
                f"{count(event.get('epochs'), 'epoch')}, "
                f"{count(event.get('samples') or 0, 'image')}, "
                f"batch {event.get('batch_size')}, {event.get('steps_per_epoch')} steps/epoch"
                f"{resumed}"
            )
            + (f"\n{event['data_cache']}" if event.get("data_cache") else "")
            + describe_recipe(event)
            + describe_skipped(event)
        )
    if kind == "epoch":
        return "  ".join(epoch_fields(event))
    if kind == "done":
        m = event.get("metrics") or {}
        text = "done:"
        if m.get("epochs_completed") is not None:
            text += f" {count(m['epochs_completed'], 'epoch')}"
        if m.get("wall_seconds") is not None:
            text += f" in {fmt_duration(m['wall_seconds'])}"
        best = m.get("best_val_accuracy")
        if best is not None:
            where = f" (epoch {m['best_epoch']})" if m.get("best_epoch") is not None else ""
            text += f"{',' if text != 'done:' else ''} best val_acc "
            text += f"{fmt_metric('val_accuracy', best)}{where}"
        reason = str(event.get("reason") or "")
        return text + (f" ({reason})" if reason and reason != "completed" else "")
    short = SHORT_LINES.get(str(kind))
    return short(event) if short else None


SHORT_LINES = {
    # fine-tuning: head only, then the backbone too
    "phase": lambda e: f"phase {e.get('phase')} from epoch {e.get('epoch')}: {e.get('text')}",
    # files epoch 1's decode found unreadable
    "skipped": lambda e: f"epoch {e.get('epoch')}: " + describe_skipped(e).lstrip("\n"),
    "stopped": lambda e: f"stopped after epoch {e.get('epoch')}: {e.get('reason')}",
    "failed": lambda e: f"failed: {e.get('reason')}",
}
