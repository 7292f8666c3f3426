"""The Train screen's live side: a run followed as it trains (title, status line, progress
bar, loss and accuracy charts, log), or the LR sweep's curve.

Following is the core's :func:`~cnntui.core.train.follow.follow` in a thread worker; its
events come back as :class:`RunEvents`, are folded into a :class:`RunProgress` on the app
thread and shown at most once a frame (``FRAME_SECONDS``).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, ProgressBar, Static

from cnntui.core.event_stream import RunProgress
from cnntui.core.runs import Run
from cnntui.tui.follow import follow_posting
from cnntui.tui.messages import RunEvents, SweepDone, SweepStep
from cnntui.tui.screens.base import ScreenReportsWork
from cnntui.tui.widgets.plots import SeriesPlot
from cnntui.tui.widgets.status import StatusLine

POLL_SECONDS = 0.25  # events are read four times a second
FRAME_SECONDS = 0.25  # the live widgets are updated at most four times a second
BATCH_PLOT_SECONDS = 1.0  # the running batch curves are redrawn at most once a second
EPOCH_CURVES = (("loss", "#train-loss"), ("val_loss", "#train-loss"))
EPOCH_CURVES += (("accuracy", "#train-acc"), ("val_accuracy", "#train-acc"))


class RunView(ScreenReportsWork, Vertical):
    """What a run (or the LR sweep) shows while it goes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.progress = RunProgress()
        self.run_dir: Path | None = None  # the run followed, if any
        self._stop = threading.Event()  # set: the follow worker of the run before ends
        self._lines_shown = 0
        self._shown: dict[str, Any] = {}  # what each live widget shows now (_render_progress)
        self._frame_due = False  # the fold changed since the live widgets were updated
        self._last_frame = 0.0  # time.monotonic() of the last update of the live widgets

    def compose(self) -> ComposeResult:
        yield Static(
            "No run yet: fill the form, then Start (Ctrl+S).", id="train-title", classes="status"
        )
        yield StatusLine("", id="train-status", classes="status")
        yield ProgressBar(id="train-progress", total=100, show_eta=False)
        with Horizontal(classes="charts"):
            yield SeriesPlot("loss", id="train-loss")
            yield SeriesPlot("accuracy", id="train-acc")
        yield Log(id="train-log", classes="log", auto_scroll=True)

    def on_unmount(self) -> None:
        self._stop.set()

    @property
    def following(self) -> bool:
        """Whether a run is followed that has not ended yet."""
        return self.run_dir is not None and not self.progress.finished

    # -- what every job shows ---------------------------------------------------------

    def reset(self, title: str, xlabel: str = "epoch") -> None:
        """Empty every live widget, under ``title``; the loss chart's x axis is ``xlabel``."""
        self.progress = RunProgress()
        self._lines_shown = 0
        self._shown = {}
        self.set_title(title)
        self.query_one("#train-status", StatusLine).set_text("")
        self.query_one("#train-progress", ProgressBar).update(total=100, progress=0)
        self.query_one("#train-log", Log).clear()
        for plot in self.query(SeriesPlot):
            plot.clear_series()
        self.query_one("#train-loss", SeriesPlot).xlabel = xlabel

    def set_title(self, title: str) -> None:
        """Say what is shown (or what went wrong) above the charts."""
        self.query_one("#train-title", Static).update(title)

    def write_lines(self, lines: list[str]) -> None:
        """Add ``lines`` to the log."""
        self.query_one("#train-log", Log).write_lines(lines)

    def forget_run(self) -> None:
        """Follow nothing (the LR sweep takes the view)."""
        self._stop.set()
        self.run_dir = None

    # -- following a run --------------------------------------------------------------

    def follow(self, run_dir: Path) -> None:
        """Show the run in ``run_dir`` from its first event, and follow it until it ends."""
        run = Run(run_dir)
        self._stop.set()
        self._stop = threading.Event()
        self.run_dir = run_dir
        self.reset(f"{run.id}  ({run.model_name})")
        self.follow_worker(run, self._stop)

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False, name="Following run")
    def follow_worker(self, run: Run, stop: threading.Event) -> None:
        follow_posting(run, self, stop, POLL_SECONDS)

    def on_run_events(self, message: RunEvents) -> None:
        message.stop()
        self._show_skipped(message.events)
        self.progress.feed(message.events)
        self.progress.apply_status(message.status)
        self._schedule_frame()

    def _schedule_frame(self) -> None:
        """Update the live widgets now, or once ``FRAME_SECONDS`` after the last update.

        However fast events come, the widgets change (and the screen repaints) at most
        four times a second; the end of a run is shown at once.
        """
        wait = self._last_frame + FRAME_SECONDS - time.monotonic()
        if self.progress.finished or (wait <= 0 and not self._frame_due):
            self._frame()
        elif not self._frame_due:
            self._frame_due = True
            self.set_timer(wait, self._frame)

    def _frame(self) -> None:
        self._frame_due = False
        self._last_frame = time.monotonic()
        self._render_progress()

    def _render_progress(self) -> None:
        """Show the fold; each widget is touched only when what it shows has changed."""
        p = self.progress
        status = p.status_line(time.time())
        if status != self._shown.get("status"):
            self._shown["status"] = status
            self.query_one("#train-status", StatusLine).set_text(status)
            self.query_one("#train-progress", ProgressBar).update(
                total=100, progress=round(p.fraction * 100, 1)
            )
        self._render_batches()
        if p.epoch_version != self._shown.get("epoch"):
            self._shown["epoch"] = p.epoch_version
            for key, plot_id in EPOCH_CURVES:
                xs, ys = p.curve(key)
                if xs:
                    marker = "x" if key.startswith("val_") else "hd"
                    self.query_one(plot_id, SeriesPlot).set_series(key, xs, ys, marker=marker)
        new = p.lines_since(self._lines_shown)
        if new:
            self.write_lines(new)
            self._lines_shown = p.line_count

    def _render_batches(self) -> None:
        """The running batch curves: with each epoch, at the end, or once a second."""
        p, now = self.progress, time.monotonic()
        if p.batch_version == self._shown.get("batch") or not (
            p.epoch_version != self._shown.get("epoch")
            or p.finished
            or now - self._shown.get("batch_time", 0.0) >= BATCH_PLOT_SECONDS
        ):
            return
        self._shown["batch"], self._shown["batch_time"] = p.batch_version, now
        loss = self.query_one("#train-loss", SeriesPlot)
        loss.set_series("batch", *p.batch_curve("loss"), marker="dot")
        acc = self.query_one("#train-acc", SeriesPlot)
        acc.set_series("batch", *p.batch_curve(p.accuracy_key() or "accuracy"), marker="dot")

    def _show_skipped(self, events: list[dict[str, Any]]) -> None:
        """Unreadable files the run left out (from its ``begin`` event), in the log."""
        log = self.query_one("#train-log", Log)
        for event in events:
            if event.get("event") != "begin" or not event.get("skipped"):
                continue
            files = event.get("skipped_files") or []
            log.write_line(f"skipped {event['skipped']} unreadable file(s) (all in skipped.txt):")
            for item in files[:5]:
                log.write_line(f"  {item.get('path', '?')}: {item.get('reason', '')}")
            if event["skipped"] > len(files[:5]):
                log.write_line(f"  … and {event['skipped'] - len(files[:5])} more")

    # -- the LR sweep -----------------------------------------------------------------

    def show_sweep_step(self, message: SweepStep) -> None:
        """One step of the sweep, in the status line and the progress bar."""
        self.query_one("#train-status", StatusLine).set_text(
            f"step {message.step}/{message.total}  lr {message.lr:.1e}  "
            f"smoothed loss {message.loss:.4f}"
        )
        self.query_one("#train-progress", ProgressBar).update(
            total=message.total, progress=message.step
        )

    def show_sweep(self, message: SweepDone) -> str | None:
        """The sweep's smoothed loss and its suggestions; returns the suggested LR as text
        (two significant digits), or None when the loss never fell."""
        sweep, info = message.sweep, message.info
        pairs = zip(sweep["lrs"], sweep["smoothed"], strict=True)
        points = [(math.log10(x), y) for x, y in pairs if y is not None]
        plot = self.query_one("#train-loss", SeriesPlot)
        plot.set_series("smoothed loss", [p[0] for p in points], [p[1] for p in points])
        tried = f"{len(sweep['lrs'])} of {info['steps']} steps"
        if sweep["stopped_early"]:
            tried += ", stopped when the loss exploded"
        self.write_lines(
            [
                f"{info['model']} on {info['data']}: batch {info['batch_size']}, "
                f"{info['optimizer']}, {tried}"
            ]
        )
        suggestion = sweep["suggestion"]
        if not suggestion:
            self.set_title("LR sweep: no suggestion")
            self.write_lines(["The loss never fell: no suggestion; the form is unchanged."])
            return None
        if points:
            ys = [p[1] for p in points]
            x = math.log10(suggestion)
            plot.set_series("suggested", [x, x], [min(ys), max(ys)], marker="x")
        self.write_lines([f"  {rule}: {value:.2e}" for rule, value in sweep["suggestions"].items()])
        value = f"{suggestion:.2g}"
        self.set_title(f"LR sweep: suggested {value} (valley), filled in; Start (Ctrl+S) to train")
        return value
