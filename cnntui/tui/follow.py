"""Following a run from its directory: tail ``events.jsonl`` and fold events into progress.

Nothing here touches the UI; the Train screen polls an :class:`EventTail` in a thread
worker and hands the new events to a :class:`RunProgress` on the app thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EventTail:
    """Read the events appended to a JSONL file since the last call (torn lines wait)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.offset = 0
        self._partial = b""

    def read_new(self) -> list[dict[str, Any]]:
        """Every complete new event; an unfinished last line is kept for next time."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events


def format_duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``12s``; ``-`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


@dataclass
class RunProgress:
    """Everything the Train screen shows, folded from a run's events."""

    run_id: str = ""
    model: str = ""
    epochs: int = 0
    steps: int = 0
    epoch: int = 0
    step: int = 0
    images_per_sec: float | None = None
    learning_rate: float | None = None
    eta_seconds: float | None = None
    epoch_seconds: list[float] = field(default_factory=list)
    state: str = "waiting"
    reason: str = ""
    batch_x: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    batch_acc: list[float] = field(default_factory=list)
    epoch_x: list[int] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in ("finished", "stopped", "failed", "interrupted")

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        if not self.epochs or not self.steps:
            return 0.0
        done = self.epoch * self.steps + self.step
        return max(0.0, min(1.0, done / (self.epochs * self.steps)))

    def feed(self, events: list[dict[str, Any]]) -> None:
        """Fold events (in order) into the progress."""
        for ev in events:
            kind = ev.get("event")
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                handler(ev)

    def _on_begin(self, ev: dict[str, Any]) -> None:
        self.run_id = ev.get("run_id", self.run_id)
        self.model = ev.get("model", self.model)
        self.epochs = int(ev.get("epochs") or 0)
        self.steps = int(ev.get("steps_per_epoch") or 0)
        self.epoch = int(ev.get("initial_epoch") or 0)
        self.step = 0
        self._truncate(self.epoch)  # a resumed run starts again after its last saved epoch
        self.state = "running"
        lr = (ev.get("params") or {}).get("learning_rate")
        self.learning_rate = _num(lr)
        self.lines.append(
            f"begin {self.model}: {self.epochs} epochs x {self.steps} steps, "
            f"{ev.get('samples', '?')} images, batch {ev.get('batch_size', '?')}"
        )

    def _on_batch(self, ev: dict[str, Any]) -> None:
        self.state = "running"
        epoch, step = int(ev.get("epoch") or 1), int(ev.get("step") or 0)
        steps = int(ev.get("steps") or self.steps or 1)
        self.steps = steps
        # the epoch in progress is epoch-1 complete epochs plus this step
        self.epoch, self.step = epoch - 1, step
        logs = ev.get("logs") or {}
        x = (epoch - 1) + step / steps
        loss, acc = _num(logs.get("loss")), _num(logs.get("accuracy"))
        if loss is not None:
            self.batch_x.append(x)
            self.batch_loss.append(loss)
            self.batch_acc.append(acc if acc is not None else float("nan"))
        self.images_per_sec = _num(ev.get("images_per_sec")) or self.images_per_sec
        if self.epoch_seconds and self.epochs:
            per_step = self.epoch_seconds[-1] / steps
            left = (self.epochs - epoch) * steps + (steps - step)
            self.eta_seconds = per_step * left

    def _on_epoch(self, ev: dict[str, Any]) -> None:
        self.state = "running"
        epoch = int(ev.get("epoch") or 0)
        self.epochs = int(ev.get("epochs") or self.epochs)
        self.epoch, self.step = epoch, 0
        logs = ev.get("logs") or {}
        self._truncate(epoch - 1, batches=False)  # a repeated epoch replaces the first
        self.epoch_x.append(epoch)
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            value = _num(logs.get(key))
            self.history.setdefault(key, []).append(value if value is not None else float("nan"))
        self.learning_rate = _num(logs.get("learning_rate")) or self.learning_rate
        seconds = _num(ev.get("seconds"))
        if seconds is not None:
            self.epoch_seconds.append(seconds)
        self.images_per_sec = _num(ev.get("images_per_sec")) or self.images_per_sec
        self.eta_seconds = _num(ev.get("eta_seconds"))
        parts = [f"epoch {epoch}/{self.epochs}"]
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            value = _num(logs.get(key))
            if value is not None:
                parts.append(f"{key} {value:.4f}")
        if seconds is not None:
            parts.append(format_duration(seconds))
        self.lines.append("  ".join(parts))

    def _truncate(self, epochs_kept: int, batches: bool = True) -> None:
        """Forget epochs after ``epochs_kept`` (and, with ``batches``, their batches)."""
        keep = [i for i, e in enumerate(self.epoch_x) if e <= epochs_kept]
        if len(keep) != len(self.epoch_x):
            self.epoch_x = [self.epoch_x[i] for i in keep]
            for key, values in self.history.items():
                self.history[key] = [values[i] for i in keep if i < len(values)]
        n = sum(1 for x in self.batch_x if x <= epochs_kept)
        if batches and n != len(self.batch_x):
            del self.batch_x[n:], self.batch_loss[n:], self.batch_acc[n:]

    def _on_done(self, ev: dict[str, Any]) -> None:
        self.state = "finished"
        self.eta_seconds = 0.0
        metrics = ev.get("metrics") or {}
        best = _num(metrics.get("best_val_accuracy"))
        reason = str(ev.get("reason") or "")
        text = "finished" + (f" ({reason})" if reason and reason != "completed" else "")
        if best is not None:
            text += f": best val_accuracy {best:.4f}"
        self.lines.append(text)

    def _on_stopped(self, ev: dict[str, Any]) -> None:
        self.state = "stopped"
        self.reason = str(ev.get("reason", ""))
        self.lines.append(f"stopped at epoch {ev.get('epoch', '?')}: {self.reason}")

    def _on_failed(self, ev: dict[str, Any]) -> None:
        self.state = "failed"
        self.reason = str(ev.get("reason", ""))
        self.lines.append(f"failed: {self.reason}")

    def status_line(self) -> str:
        """One line: epoch, step, ETA, images per second, learning rate."""
        parts = [self.state]
        if self.epochs:
            shown = self.epoch + (1 if self.step else 0)
            parts.append(f"epoch {shown}/{self.epochs}")
        if self.steps and self.step:
            parts.append(f"step {self.step}/{self.steps}")
        if not self.finished:
            parts.append(f"ETA {format_duration(self.eta_seconds)}")
        if self.images_per_sec:
            parts.append(f"{self.images_per_sec:,.0f} img/s")
        if self.learning_rate is not None:
            parts.append(f"lr {self.learning_rate:g}")
        return " · ".join(parts)
