"""The live terminal view of a run: plotext charts, progress, speed and learning rate.

``LiveView`` is an event sink. ``handle`` never waits: it queues the event (a batch event
just replaces the previous one); a background thread applies them, redraws the frame in
place at most ``fps`` (5) times a second, and rebuilds the charts only when an epoch ends or,
for the running batch point, every ``chart_interval`` seconds. The
state keeps at most ``MAX_POINTS`` epochs (older ones are thinned), so memory stays
bounded on long runs. ``runs watch`` feeds the same view from ``events.jsonl``.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import deque
from typing import Any, TextIO

from cnntui.core.train.events import FINAL_EVENTS
from cnntui.core.train.lines import describe, fmt_duration, fmt_logs, fmt_rate

MAX_POINTS = 400
CSI = "\x1b["


def accuracy_key(logs: dict[str, Any]) -> str | None:
    """The training accuracy metric's name in ``logs`` (``accuracy``, ``binary_accuracy``…)."""
    if "accuracy" in logs:
        return "accuracy"
    return next((k for k in sorted(logs) if "acc" in k and not k.startswith("val_")), None)


class ViewState:
    """What the live view shows, built from events only (so a watcher rebuilds it too)."""

    def __init__(self) -> None:
        self.run_id = self.model = ""
        self.epochs: int | None = None
        self.epoch = 0
        self.step = 0
        self.steps: int | None = None
        self.batch_size: int | None = None
        self.batch_logs: dict[str, Any] = {}
        self.images_per_sec: float | None = None
        self.learning_rate: float | None = None
        self.eta_seconds: float | None = None
        self.epoch_seconds: float | None = None
        self.points: list[tuple[int, dict[str, Any]]] = []  # (epoch, logs), thinned
        self.last_epoch_line = ""
        self.final_line = ""
        self.final: str | None = None
        self.chart_version = 0
        self.batch_time = 0.0
        self.skipped = 0

    def update(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "begin":
            self.run_id, self.model = event.get("run_id", ""), event.get("model", "")
            self.epochs, self.steps = event.get("epochs"), event.get("steps_per_epoch")
            self.batch_size = event.get("batch_size")
            self.skipped = int(event.get("skipped") or 0)
            self.learning_rate = (event.get("params") or {}).get("learning_rate")
            start = int(event.get("initial_epoch") or 0)
            self.epoch, self.step = start, 0
            self.points = [p for p in self.points if p[0] <= start]
            self.final, self.final_line = None, ""
            self.chart_version += 1
        elif kind == "batch":
            self.epoch, self.step = event.get("epoch", self.epoch), event.get("step", 0)
            self.steps = event.get("steps") or self.steps
            self.batch_logs = event.get("logs") or {}
            self.images_per_sec = event.get("images_per_sec")
            self.batch_time = time.monotonic()
        elif kind == "epoch":
            epoch = int(event["epoch"])
            logs = event.get("logs") or {}
            self.points = [p for p in self.points if p[0] < epoch]
            self.points.append((epoch, logs))
            if len(self.points) > MAX_POINTS:
                self.points = self.points[:-1:2] + [self.points[-1]]
            self.epoch, self.step, self.batch_logs = epoch, 0, {}
            self.epochs = event.get("epochs", self.epochs)
            self.learning_rate = logs.get("learning_rate", self.learning_rate)
            self.images_per_sec = event.get("images_per_sec") or self.images_per_sec
            self.eta_seconds, self.epoch_seconds = event.get("eta_seconds"), event.get("seconds")
            self.last_epoch_line = describe(event) or ""
            self.chart_version += 1
        elif kind in FINAL_EVENTS:
            self.final = kind
            self.final_line = describe(event) or ""

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """x (epochs, fractional for the running epoch) and y of one metric."""
        xs, ys = [], []
        for epoch, logs in self.points:
            if logs.get(key) is not None:
                xs.append(float(epoch))
                ys.append(float(logs[key]))
        if self.batch_logs.get(key) is not None and self.steps and self.final is None:
            xs.append(self.epoch + self.step / self.steps)
            ys.append(float(self.batch_logs[key]))
        return xs, ys

    def etas(self) -> tuple[float | None, float | None]:
        """Seconds left in this epoch and in the run, from the measured speed."""
        if not (self.images_per_sec and self.steps and self.batch_size):
            return None, self.eta_seconds
        per_step = self.batch_size / self.images_per_sec
        epoch_left = (self.steps - self.step) * per_step if self.step else None
        per_epoch = self.epoch_seconds or self.steps * per_step
        done = self.epoch if self.step == 0 else self.epoch - 1
        later = max(0, (self.epochs or 0) - done - (1 if self.step else 0))
        return epoch_left, (epoch_left or 0.0) + later * per_epoch

    def accuracy_key(self) -> str | None:
        for _, logs in reversed(self.points):
            return accuracy_key(logs)
        return accuracy_key(self.batch_logs)


def _bar(fraction: float, width: int) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    full = int(fraction * width)
    return "█" * full + "░" * (width - full)


def render_charts(state: ViewState, width: int, height: int, color: bool = True) -> list[str]:
    """Two plotext charts side by side: loss and accuracy, train and validation."""
    import plotext as plt

    acc = state.accuracy_key() or "accuracy"
    half = max(20, (width - 1) // 2)
    blocks = []
    for title, key in (("loss", "loss"), (acc, acc)):
        plt.clear_figure()
        plt.theme("clear")
        plt.plotsize(half, height)
        plt.title(title)
        for name, series_key, colour in (("train", key, "cyan"), ("val", f"val_{key}", "orange")):
            xs, ys = state.series(series_key)
            if xs:
                plt.plot(xs, ys, label=name, marker="braille", color=colour)
        if state.epochs:
            plt.xlim(0, max(float(state.epochs), 1.0))
        plt.xlabel("epoch")
        if not color:
            plt.clear_color()
        blocks.append(plt.build().splitlines())
    lines = []
    for left, right in zip(*blocks):
        lines.append(f"{left} {right}")
    return lines


def render_frame(
    state: ViewState, width: int, height: int, charts: list[str], color: bool = True
) -> list[str]:
    """The whole frame as lines (without cursor movement)."""
    title = f"cnntui · {state.model} · run {state.run_id}"
    if state.skipped:
        title += f" · skipped {state.skipped} unreadable files (skipped.txt)"
    lines = [title[:width]]
    if state.final:
        lines.append(state.final_line[:width])
    else:
        frac = state.step / state.steps if state.steps else 0.0
        epoch_eta, run_eta = state.etas()
        shown = state.epoch + 1 if state.step == 0 else state.epoch
        bar_w = max(10, min(40, width - 60))
        progress = (
            f"epoch {min(max(shown, 1), state.epochs or shown)}/{state.epochs or '?'} "
            f"[{_bar(frac, bar_w)}] {state.step}/{state.steps or '?'}"
        )
        eta = f" · epoch eta {fmt_duration(epoch_eta)}" if epoch_eta is not None else ""
        run_eta = f" · run eta {fmt_duration(run_eta)}" if run_eta is not None else ""
        lines.append((progress + eta + run_eta)[:width])
    lr = f" · lr {state.learning_rate:.1e}" if state.learning_rate else ""
    logs = state.batch_logs or (state.points[-1][1] if state.points else {})
    now_logs = fmt_logs(logs, ("loss", "accuracy", "val_loss", "val_accuracy")) if logs else ""
    status = f"{now_logs or 'waiting for the first batch…'} · {fmt_rate(state.images_per_sec)}"
    lines.append(f"{status}{lr}"[:width])
    lines += charts
    if state.last_epoch_line:
        lines.append(state.last_epoch_line[:width])
    return lines


class LiveView:
    """Event sink drawing the run in place in a terminal, from a background thread."""

    def __init__(
        self,
        stream: TextIO | None = None,
        fps: float = 5.0,
        chart_interval: float = 2.0,
        threaded: bool = True,
    ):
        self.stream = stream or sys.stdout
        self.state = ViewState()
        self.min_interval = 1.0 / fps
        self.chart_interval = chart_interval
        self.color = not os.environ.get("NO_COLOR")
        self._lock = threading.Lock()  # held by whoever draws, never by ``handle``
        self._inbox: deque[tuple[int, dict[str, Any]]] = deque()
        self._latest_batch: tuple[int, dict[str, Any]] | None = None
        self._seq = self._applied = 0
        self._wake = threading.Event()
        self._closing = False
        self._dirty = False
        self._drawn_lines = 0
        self._previous: list[str] = []
        self._charts: list[str] = []
        self._chart_key: tuple[Any, ...] = ()
        self._chart_time = 0.0
        self._last_draw = 0.0
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._loop, name="cnntui-live", daemon=True)
            self._thread.start()

    def handle(self, event: dict[str, Any]) -> None:
        self._seq += 1
        if event.get("event") == "batch":
            self._latest_batch = (self._seq, event)
        else:
            self._inbox.append((self._seq, event))
            if event.get("event") in ("epoch", *FINAL_EVENTS):
                self._wake.set()
        self._dirty = True

    def _apply_pending(self) -> None:
        pending = []
        while self._inbox:
            pending.append(self._inbox.popleft())
        batch = self._latest_batch
        if batch is not None and batch[0] > self._applied:
            pending.append(batch)
        for seq, event in sorted(pending, key=lambda item: item[0]):
            if seq > self._applied:
                self.state.update(event)
                self._applied = seq

    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self.min_interval)
            self._wake.clear()
            if self._closing:
                break
            if self._dirty and time.monotonic() - self._last_draw >= self.min_interval:
                self.draw()

    def draw(self) -> None:
        """Redraw the frame now (thread-safe with ``handle``)."""
        cols, rows = shutil.get_terminal_size((100, 30))
        width = max(40, cols - 1)
        chart_h = max(6, min(16, rows - 7))
        with self._lock:
            self._dirty = False
            self._apply_pending()
            state = self.state
            now = time.monotonic()
            key = (state.chart_version, width, chart_h)
            batch_moved = state.batch_time > self._chart_time
            if key != self._chart_key or (
                batch_moved and now - self._chart_time >= self.chart_interval
            ):
                self._charts = render_charts(state, width, chart_h, self.color)
                self._chart_key, self._chart_time = key, now
            lines = render_frame(state, width, chart_h, self._charts, self.color)
        lines = lines[: max(3, rows - 1)]
        self.stream.write(self._frame_update(lines))
        self.stream.flush()
        self._last_draw = time.monotonic()

    def _frame_update(self, lines: list[str]) -> str:
        """Escape codes turning the frame on screen into ``lines``; unchanged lines are skipped."""
        out = [f"{CSI}{self._drawn_lines}F" if self._drawn_lines else f"{CSI}?25l"]
        previous = self._previous if self._drawn_lines else []
        for i, line in enumerate(lines):
            if i < len(previous) and previous[i] == line:
                out.append(f"{CSI}1E")  # unchanged: just move down
            else:
                out.append(f"{line}{CSI}0m{CSI}K\n")
        out.append(f"{CSI}J")
        self._previous, self._drawn_lines = lines, len(lines)
        return "".join(out)

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.draw()
            self.stream.write(f"{CSI}?25h")
            self.stream.flush()
        except (OSError, ValueError):
            pass
