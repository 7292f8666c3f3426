"""Reading a run's ``events.jsonl`` as it grows, and folding its events into progress.

The one reader and the one fold behind every view of a run (``cnntui train``'s live view,
``runs watch``, ``runs compare``, the TUI's Train and Runs screens):

- :class:`EventTail` reads only what was appended since its last read, complete lines
  only (a torn last line waits for the next read);
- :class:`RunProgress` folds events in order: the latest value per epoch, a resumed run's
  ``begin`` truncating what came after its resume point, the final status, the curves and
  an ETA (from the batch rate as soon as there is one, from epoch times after that).

Nothing here imports TensorFlow, Keras, Textual or Rich; it is cheap enough to run at every
poll of a live run.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnntui.core.formats import describe, epoch_of, fmt_duration, fmt_metric, fmt_rate

FINAL_EVENT_STATUS = {"done": "finished", "stopped": "stopped", "failed": "failed"}
FINAL_STATUSES = ("finished", "stopped", "failed", "interrupted")
MAX_BATCH_POINTS = 2000  # batch points kept for the running curves (older ones are thinned)
MAX_EPOCH_POINTS = 400  # epochs kept for the curves of very long runs (older ones are thinned)
MAX_LINES = 500  # event lines kept (``line_count`` counts them all)
RECENT_EPOCHS = 3  # epoch times averaged for the ETA


def parse_lines(data: bytes, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The JSON events in complete lines ``data``; unparsable lines and ``skip`` kinds left out."""
    markers = tuple(f'"event":{gap}"{kind}"'.encode() for kind in skip for gap in ("", " "))
    events = []
    for line in data.splitlines():
        if not line.strip() or (markers and any(m in line[:24] for m in markers)):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def read_events(
    path: str | Path, offset: int = 0, skip: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], int]:
    """Complete events from byte ``offset`` on, and the offset to continue from."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return parse_lines(data[:end], skip), offset + end


class EventTail:
    """The events appended to a JSONL file since the last :meth:`read_new` (torn lines wait).

    ``skip``: event kinds not parsed at all (``("batch",)`` when only epochs matter).
    A file that shrank (replaced or truncated) is read again from its start: check
    :attr:`restarted` to know that earlier events no longer hold.
    """

    def __init__(self, path: str | Path, skip: tuple[str, ...] = ()):
        self.path = Path(path)
        self.skip = skip
        self.offset = 0
        self.restarted = False

    def read_new(self) -> list[dict[str, Any]]:
        """Every complete new event, in file order."""
        self.restarted = False
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:
            self.offset, self.restarted = 0, True
        if size == self.offset:
            return []
        events, self.offset = read_events(self.path, self.offset, self.skip)
        return events


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _thin(points: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, dict[str, Any]]]:
    """Every other point, always keeping the last."""
    return points[:-1:2] + points[-1:]


@dataclass
class RunProgress:
    """A run as far as its events tell: feed events in order with :meth:`feed`.

    ``epoch`` counts completed epochs and ``step`` the batches done in the epoch after it,
    so the epoch in progress is ``epoch + 1`` while ``step > 0``. ``version`` changes with
    every fed event, ``epoch_version`` only when the epoch curves change, ``batch_version``
    when a batch point is added: views redraw only what changed.
    """

    run_id: str = ""
    model: str = ""
    backend: str = ""  # the Keras backend of the latest session (begin event)
    phase: int = 0  # fine-tuning's phase (1: head only, 2: backbone too); 0: none
    phase_text: str = ""
    epochs: int = 0
    epochs_estimated: bool = False  # a time budget's projection: shown as "epoch 2/~72"
    steps: int = 0
    batch_size: int = 0
    samples: int = 0
    skipped: int = 0
    epoch: int = 0
    step: int = 0
    initial_epoch: int = 0
    images_per_sec: float | None = None
    learning_rate: float | None = None
    state: str = "waiting"
    reason: str = ""
    final_line: str = ""
    batch_logs: dict[str, Any] = field(default_factory=dict)
    epoch_logs: dict[int, dict[str, Any]] = field(default_factory=dict)
    epoch_seconds: dict[int, float] = field(default_factory=dict)
    batch_points: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    epoch_lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))
    line_count: int = 0
    last_time: float | None = None
    version: int = 0
    epoch_version: int = 0
    batch_version: int = 0
    _eta: float | None = None
    _eta_time: float | None = None
    _budget_end: float | None = None  # a time budget's end (Unix time), from the epoch events

    # -- folding ------------------------------------------------------------------------

    def feed(self, events: list[dict[str, Any]]) -> None:
        """Fold ``events`` (in file order) into the progress."""
        for ev in events:
            handler = getattr(self, f"_on_{ev.get('event')}", None)
            if handler is None:
                continue
            handler(ev)
            self.version += 1
            when = _num(ev.get("time"))
            if when is not None:
                self.last_time = when

    def apply_status(self, status: str) -> None:
        """Take the run's recorded status (``status.json``) into account.

        A run that ended without a final event (killed: ``interrupted``) ends here.
        """
        if status in FINAL_STATUSES and not self.finished:
            self.state = status
            self.final_line = f"run is {status}"
            self._line(self.final_line)
            self._eta = None
            self.version += 1

    def _on_begin(self, ev: dict[str, Any]) -> None:
        self.run_id = ev.get("run_id") or self.run_id
        self.model = ev.get("model") or self.model
        self.backend = ev.get("backend") or self.backend
        self.epochs = int(ev.get("epochs") or 0)
        self.epochs_estimated = bool(ev.get("epochs_estimated"))
        self._budget_end = None
        self.steps = int(ev.get("steps_per_epoch") or 0)
        self.batch_size = int(ev.get("batch_size") or 0)
        self.samples = int(ev.get("samples") or 0)
        self.skipped = int(ev.get("skipped") or 0)
        self.learning_rate = _num((ev.get("params") or {}).get("learning_rate"))
        start = int(ev.get("initial_epoch") or 0)
        self.initial_epoch = self.epoch = start
        self.step, self.batch_logs = 0, {}
        self._truncate(start)  # a resumed run starts again after its last saved epoch
        self.batch_points = [p for p in self.batch_points if p[0] <= start]
        self.state, self.reason, self.final_line = "running", "", ""
        self._set_eta(ev)
        self.epoch_version += 1
        self.batch_version += 1
        self._line(describe(ev) or "")

    def _on_batch(self, ev: dict[str, Any]) -> None:
        self.state = "running"
        epoch, step = int(ev.get("epoch") or 1), int(ev.get("step") or 0)
        self.steps = int(ev.get("steps") or self.steps or 1)
        self.epoch, self.step = epoch - 1, step
        self.batch_logs = ev.get("logs") or {}
        self.images_per_sec = _num(ev.get("images_per_sec")) or self.images_per_sec
        if any(_num(v) is not None for v in self.batch_logs.values()):
            self.batch_points.append((epoch - 1 + step / self.steps, self.batch_logs))
            if len(self.batch_points) > MAX_BATCH_POINTS:
                self.batch_points = _thin(self.batch_points)
            self.batch_version += 1
        self._set_eta(ev)

    def _on_epoch(self, ev: dict[str, Any]) -> None:
        self.state = "running"
        epoch = int(ev.get("epoch") or 0)
        self.epochs = int(ev.get("epochs") or self.epochs)
        self.epochs_estimated = bool(ev.get("epochs_estimated", self.epochs_estimated))
        self.epoch, self.step, self.batch_logs = epoch, 0, {}
        logs = ev.get("logs") or {}
        self._truncate(epoch - 1)  # a repeated epoch (written before a kill -9) replaces the first
        self.epoch_logs[epoch] = logs
        seconds = _num(ev.get("seconds"))
        if seconds is not None:
            self.epoch_seconds[epoch] = seconds
        self.learning_rate = _num(logs.get("learning_rate")) or self.learning_rate
        self.images_per_sec = _num(ev.get("images_per_sec")) or self.images_per_sec
        when, left = _num(ev.get("time")), _num(ev.get("eta_seconds"))
        if self.epochs_estimated and when is not None and left is not None:
            self._budget_end = when + left  # the run's own ETA: at most the budget left
        self._set_eta(ev)
        self.epoch_version += 1
        if len(self.epoch_logs) > MAX_EPOCH_POINTS:
            for old in sorted(self.epoch_logs)[1:-1:2]:
                del self.epoch_logs[old]
                self.epoch_seconds.pop(old, None)
        line = describe(ev) or ""
        self._line(line)
        self.epoch_lines.append(line)

    def _on_phase(self, ev: dict[str, Any]) -> None:
        self.phase = int(ev.get("phase") or 0)
        self.phase_text = str(ev.get("text") or "")
        self._line(describe(ev) or "")

    def _final(self, ev: dict[str, Any]) -> None:
        self.state = FINAL_EVENT_STATUS[ev["event"]]
        self.reason = str(ev.get("reason") or "")
        self.final_line = describe(ev) or ""
        self._line(self.final_line)
        self._eta = 0.0 if self.state == "finished" else None
        self.batch_version += 1  # the running batch point is no longer drawn

    _on_done = _on_stopped = _on_failed = _final

    def _line(self, line: str) -> None:
        self.lines.append(line)
        self.line_count += 1

    def lines_since(self, count: int) -> list[str]:
        """The lines added after the first ``count`` (as many as are still kept)."""
        new = self.line_count - count
        return list(self.lines)[-new:] if new > 0 else []

    def _truncate(self, epochs_kept: int) -> None:
        """Forget the epochs after ``epochs_kept``."""
        for epoch in [e for e in self.epoch_logs if e > epochs_kept]:
            del self.epoch_logs[epoch]
            self.epoch_seconds.pop(epoch, None)

    # -- ETA ----------------------------------------------------------------------------

    def _set_eta(self, ev: dict[str, Any]) -> None:
        """The ETA as of ``ev``, never past a time budget's end."""
        eta, when = self._estimate(), _num(ev.get("time"))
        if eta is not None and self._budget_end is not None and when is not None:
            eta = min(eta, max(0.0, self._budget_end - when))
        self._eta, self._eta_time = eta, when

    def _estimate(self) -> float | None:
        """Seconds left in the run, as of the event just folded."""
        if not self.epochs:
            return None
        recent = [self.epoch_seconds[e] for e in sorted(self.epoch_seconds)[-RECENT_EPOCHS:]]
        per_epoch = sum(recent) / len(recent) if recent else None
        per_step = None
        if self.step and self.images_per_sec and self.batch_size:
            per_step = self.batch_size / self.images_per_sec
        elif per_epoch and self.steps:
            per_step = per_epoch / self.steps
        if per_epoch is None and per_step is not None and self.steps:
            per_epoch = per_step * self.steps
        if per_epoch is None:
            return None
        if not self.step:
            return max(0, self.epochs - self.epoch) * per_epoch
        left_now = max(0, self.steps - self.step) * (per_step or per_epoch / (self.steps or 1))
        later = max(0, self.epochs - self.epoch - 1)
        return left_now + later * per_epoch

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left in the run; with ``now`` (Unix time), less the time since the estimate."""
        if self._eta is None:
            return None
        if now is None or self._eta_time is None or self.finished:
            return self._eta
        return max(0.0, self._eta - max(0.0, now - self._eta_time))

    def epoch_eta(self) -> float | None:
        """Seconds left in the epoch in progress (``None`` between epochs or unknown)."""
        if not (self.step and self.steps and self.images_per_sec and self.batch_size):
            return None
        return max(0, self.steps - self.step) * self.batch_size / self.images_per_sec

    # -- reading it ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATUSES

    @property
    def current_epoch(self) -> int:
        """The epoch in progress (1-based), or the last completed one between epochs."""
        return self.epoch + 1 if self.step else max(self.epoch, 1 if self.epochs else 0)

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        if self.state == "finished":
            return 1.0
        if not self.epochs or not self.steps:
            return 0.0
        done = self.epoch * self.steps + self.step
        return max(0.0, min(1.0, done / (self.epochs * self.steps)))

    @property
    def epoch_x(self) -> list[int]:
        return sorted(self.epoch_logs)

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch values of each metric, aligned with :attr:`epoch_x` (NaN where missing)."""
        keys = sorted({k for logs in self.epoch_logs.values() for k in logs})
        return {
            k: [
                v if (v := _num(self.epoch_logs[e].get(k))) is not None else math.nan
                for e in self.epoch_x
            ]
            for k in keys
        }

    def curve(self, key: str) -> tuple[list[int], list[float]]:
        """One metric per completed epoch (epochs without a number are left out)."""
        xs, ys = [], []
        for e in self.epoch_x:
            value = _num(self.epoch_logs[e].get(key))
            if value is not None:
                xs.append(e)
                ys.append(value)
        return xs, ys

    def batch_curve(self, key: str) -> tuple[list[float], list[float]]:
        """One metric at the recorded batch points (x in fractional epochs)."""
        xs, ys = [], []
        for x, logs in self.batch_points:
            value = _num(logs.get(key))
            if value is not None:
                xs.append(x)
                ys.append(value)
        return xs, ys

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """The epoch curve of ``key`` and, while running, the latest batch point after it."""
        xs, ys = self.curve(key)
        xs = [float(x) for x in xs]
        value = _num(self.batch_logs.get(key))
        if value is not None and self.step and self.steps and not self.finished:
            xs.append(self.epoch + self.step / self.steps)
            ys.append(value)
        return xs, ys

    def best(self, key: str) -> float | None:
        """Best epoch value of ``key`` (lowest for losses, highest otherwise)."""
        values = self.curve(key)[1]
        if not values:
            return None
        return min(values) if "loss" in key else max(values)

    def latest_logs(self) -> dict[str, Any]:
        """The running batch's logs, else the last epoch's."""
        if self.batch_logs:
            return self.batch_logs
        return self.epoch_logs[max(self.epoch_logs)] if self.epoch_logs else {}

    def accuracy_key(self) -> str | None:
        """The training accuracy metric's name (``accuracy``, ``binary_accuracy``…)."""
        logs = self.latest_logs()
        if "accuracy" in logs:
            return "accuracy"
        return next((k for k in sorted(logs) if "acc" in k and not k.startswith("val_")), None)

    def status_fields(self, now: float | None = None) -> list[str]:
        """The state in short fields, most important first: epoch, step, ETA, speed, lr,
        Keras backend."""
        fields = [self.state]
        if self.epochs:
            fields.append(epoch_of(self.current_epoch, self.epochs, self.epochs_estimated))
        if self.steps and self.step:
            fields.append(f"step {self.step}/{self.steps}")
        if not self.finished:
            fields.append(f"ETA {fmt_duration(self.eta(now))}")
        if self.images_per_sec:
            fields.append(fmt_rate(self.images_per_sec))
        if self.learning_rate is not None:
            fields.append(f"lr {fmt_metric('learning_rate', self.learning_rate)}")
        if self.backend:
            fields.append(self.backend)
        return fields

    def status_line(self, now: float | None = None) -> str:
        """One line: state, epoch, step, ETA, images per second, learning rate."""
        return " · ".join(self.status_fields(now))


def fold_file(path: str | Path, skip: tuple[str, ...] = ()) -> RunProgress:
    """A whole events file folded at once (``skip``: event kinds not needed)."""
    progress = RunProgress()
    progress.feed(EventTail(path, skip).read_new())
    return progress


class FoldCache:
    """Folds of several runs' event files, each brought up to date by reading only its tail."""

    def __init__(self, skip: tuple[str, ...] = ("batch",)):
        self.skip = skip
        self._folds: dict[str, tuple[EventTail, RunProgress]] = {}

    def get(self, path: str | Path) -> RunProgress:
        """The fold of ``path`` with everything appended since the last call."""
        key = str(path)
        tail, progress = self._folds.get(key) or (EventTail(path, self.skip), RunProgress())
        events = tail.read_new()
        if tail.restarted:
            progress = RunProgress()
        progress.feed(events)
        self._folds[key] = (tail, progress)
        return progress
