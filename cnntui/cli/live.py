"""The live terminal view of a run: plotext charts, progress, speed and learning rate.

``LiveView`` is an event sink. ``handle`` never waits: it queues the event (a batch event
just replaces the previous one); a background thread applies them, redraws the frame in
place at most ``fps`` (5) times a second, only when an event came, and rebuilds the charts
only when an epoch ends or, for the running batch point, every ``chart_interval`` seconds;
either way never sooner than 50 times the last build's duration after it, so charts cost
under 2% of a core even with very short epochs or on a loaded machine. The state is the
core's one fold of events (:class:`cnntui.core.event_stream.RunProgress`, bounded on long runs), so
``runs watch`` feeds the same view from ``events.jsonl``. The frame fills the terminal's
height (charts, then as many recent epoch lines as fit) and every line fits its width.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections import deque
from typing import Any, TextIO

from cnntui.core.event_stream import RunProgress
from cnntui.core.formats import (
    epoch_of,
    fit_fields,
    fmt_duration,
    fmt_logs,
    fmt_metric,
    fmt_rate,
)
from cnntui.core.train.events import FINAL_EVENTS

CSI = "\x1b["
HEADER_ROWS = 3  # title, progress, stats
CHART_COST_GAP = 50  # charts wait 50x their last build time: under 2% of a core on them


def _bar(fraction: float, width: int) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    full = int(fraction * width)
    return "█" * full + "░" * (width - full)


def layout(cols: int, rows: int) -> tuple[int, int, int]:
    """Width, chart height and epoch lines for a terminal of ``cols`` × ``rows``.

    The frame fills the terminal but its last row: three header lines, the charts (about
    three fifths of what is left, 6 to 24 rows) and as many recent epoch lines as fit.
    """
    width = max(40, cols - 1)
    room = max(8, rows - 1 - HEADER_ROWS)
    chart_h = max(6, min(24, room * 3 // 5))
    return width, chart_h, max(1, room - chart_h)


def render_charts(state: RunProgress, width: int, height: int, color: bool = True) -> list[str]:
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


def progress_line(state: RunProgress, width: int, now: float | None = None) -> str:
    """``epoch 2/5 [██░░] 40/100 · epoch eta 12s · run eta 1m05s``, fitted to ``width``."""
    frac = state.step / state.steps if state.steps else 0.0
    bar_w = max(10, min(40, width - 60))
    shown = state.epoch + 1  # the epoch in progress, or the next one between epochs
    epoch_eta, run_eta = state.epoch_eta(), state.eta(now)
    return fit_fields(
        [
            f"{epoch_of(min(shown, state.epochs or shown), state.epochs, state.epochs_estimated)} "
            f"[{_bar(frac, bar_w)}] {state.step}/{state.steps or '?'}",
            f"epoch eta {fmt_duration(epoch_eta)}" if epoch_eta is not None else "",
            f"run eta {fmt_duration(run_eta)}" if run_eta is not None else "",
        ],
        width,
    )


def stats_line(state: RunProgress, width: int) -> str:
    """The current metrics, speed and learning rate; whole fields left out when narrow."""
    logs = state.latest_logs()
    fields = [fmt_logs(logs, (k,)) for k in ("loss", "accuracy", "val_loss", "val_accuracy")]
    if not any(fields):
        fields = ["waiting for the first batch…"]
    fields.append(fmt_rate(state.images_per_sec))
    if state.learning_rate:
        fields.append(f"lr {fmt_metric('learning_rate', state.learning_rate)}")
    return fit_fields(fields, width, "  ")


def render_frame(
    state: RunProgress,
    width: int,
    charts: list[str],
    epoch_rows: int = 1,
    now: float | None = None,
) -> list[str]:
    """The whole frame as lines (without cursor movement)."""
    title = f"cnntui · {state.model} · run {state.run_id}"
    if state.skipped:
        title += f" · skipped {state.skipped} unreadable files (skipped.txt)"
    lines = [title[:width]]
    lines.append(state.final_line[:width] if state.finished else progress_line(state, width, now))
    lines.append(stats_line(state, width))
    lines += charts
    recent = list(state.epoch_lines)[-epoch_rows:] if epoch_rows > 0 else []
    lines += [fit_fields(line.split("  "), width, "  ") for line in recent]
    return lines


class LiveView:
    """Event sink drawing the run in place in a terminal, from a background thread."""

    def __init__(
        self,
        stream: TextIO | None = None,
        fps: float = 5.0,
        chart_interval: float = 5.0,
        threaded: bool = True,
    ):
        self.stream = stream or sys.stdout
        self.state = RunProgress()
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
        self._chart_batch = -1
        self._chart_seconds = 0.0  # how long the last charts took to build
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
                self.state.feed([event])
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
        width, chart_h, epoch_rows = layout(cols, rows)
        with self._lock:
            self._dirty = False
            self._apply_pending()
            state = self.state
            now = time.monotonic()
            key = (state.epoch_version, state.finished, width, chart_h)
            batch_moved = state.batch_version != self._chart_batch
            since = now - self._chart_time
            gap = CHART_COST_GAP * self._chart_seconds  # charts: at most ~2% of one core
            if (key != self._chart_key and (since >= gap or state.finished)) or (
                batch_moved and since >= max(self.chart_interval, gap)
            ):
                self._charts = render_charts(state, width, chart_h, self.color)
                self._chart_seconds = time.monotonic() - now
                self._chart_key, self._chart_time = key, now
                self._chart_batch = state.batch_version
            lines = render_frame(state, width, self._charts, epoch_rows, time.time())
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
