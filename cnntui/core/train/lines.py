"""Plain-text output of a run: one compact line per epoch (logs, CI, pipes)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

SHORT = {"accuracy": "acc", "val_accuracy": "val_acc", "learning_rate": "lr"}
ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")


def fmt_duration(seconds: float | None) -> str:
    """``1:02:03`` / ``2:03`` style, ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_value(key: str, value: Any) -> str:
    if value is None:
        return "nan"
    if key == "learning_rate":
        return f"{value:.1e}"
    return f"{value:.4f}"


def fmt_logs(logs: dict[str, Any], keys: tuple[str, ...] | None = None) -> str:
    """``loss 0.1234  acc 0.9712 …`` with the usual metrics first."""
    ordered = [k for k in ORDER if k in logs]
    ordered += sorted(k for k in logs if k not in ORDER and k != "learning_rate")
    if "learning_rate" in logs:
        ordered.append("learning_rate")
    if keys is not None:
        ordered = [k for k in ordered if k in keys]
    return "  ".join(f"{SHORT.get(k, k)} {fmt_value(k, logs[k])}" for k in ordered)


def fmt_rate(images_per_sec: float | None) -> str:
    return f"{images_per_sec:,.0f} img/s" if images_per_sec else "- img/s"


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


def describe(event: dict[str, Any]) -> str | None:
    """One line for an event, or ``None`` for events a log should not show (batches)."""
    kind = event.get("event")
    if kind == "begin":
        start = event.get("initial_epoch") or 0
        resumed = f", resuming after epoch {start}" if start else ""
        return (
            f"training {event.get('model')} (run {event.get('run_id')}): "
            f"{event.get('epochs')} epochs, {event.get('samples', 0):,} images, "
            f"batch {event.get('batch_size')}, {event.get('steps_per_epoch')} steps/epoch"
            f"{resumed}" + (f"\n{event['data_cache']}" if event.get("data_cache") else "")
        ) + describe_skipped(event)
    if kind == "epoch":
        width = len(str(event.get("epochs", "")))
        return (
            f"epoch {event['epoch']:>{width}}/{event.get('epochs')}  "
            f"{fmt_logs(event.get('logs') or {})}  {event.get('seconds', 0):.1f}s  "
            f"{fmt_rate(event.get('images_per_sec'))}  eta {fmt_duration(event.get('eta_seconds'))}"
        )
    if kind == "done":
        m = event.get("metrics") or {}
        best = m.get("best_val_accuracy")
        best_txt = f", best val_acc {best:.4f} (epoch {m.get('best_epoch')})" if best else ""
        return (
            f"done: {m.get('epochs_completed')} epochs in {fmt_duration(m.get('wall_seconds'))}"
            f"{best_txt}"
        )
    if kind == "skipped":  # files epoch 1's decode found unreadable
        return f"epoch {event.get('epoch')}: " + describe_skipped(event).lstrip("\n")
    if kind == "stopped":
        return f"stopped after epoch {event.get('epoch')}: {event.get('reason')}"
    if kind == "failed":
        return f"failed: {event.get('reason')}"
    return None


class LineSink:
    """Print the begin line, one line per epoch, and the final line to ``stream``."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def handle(self, event: dict[str, Any]) -> None:
        line = describe(event)
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass
