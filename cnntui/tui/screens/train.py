"""Train: a form from the entry's defaults; Start launches a run; the screen follows it live.

Find LR runs the learning-rate sweep of ``cnntui lr-find`` in a worker thread, draws its
smoothed loss and fills the learning-rate field with the suggestion.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Log,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import get_current_worker

from cnntui.core.errors import CnntuiError
from cnntui.core.event_stream import EventTail, RunProgress
from cnntui.core.formats import count
from cnntui.core.train.config import OPTIMIZERS, TrainConfig, split_names
from cnntui.tui.heap import settle_heap
from cnntui.tui.launch import launch, reap, stop_run
from cnntui.tui.messages import LaunchFailed, RunEvents, RunStarted, SweepDone, SweepStep
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.confirm import Confirm
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.plots import SeriesPlot
from cnntui.tui.widgets.status import StatusLine

POLL_SECONDS = 0.25  # events are read four times a second
FRAME_SECONDS = 0.25  # the live widgets are updated at most four times a second
BATCH_PLOT_SECONDS = 1.0  # the running batch curves are redrawn at most once a second


class FormError(ValueError):
    """A form field that does not parse, named for the user."""


def _opt_int(text: str, what: str, minimum: int = 1) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise FormError(f"{what} must be a whole number; got {text!r}") from None
    if value < minimum:
        raise FormError(f"{what} must be at least {minimum}; got {value}")
    return value


def _opt_float(text: str, what: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormError(f"{what} must be a number like 0.001; got {text!r}") from None
    if value <= 0:
        raise FormError(f"{what} must be positive; got {value}")
    return value


class TrainScreen(WorkbenchScreen):
    """Start a training run and watch it learn."""

    SCREEN = "train"
    TYPE_INTO = "#train-data"  # while the form is shown
    # Starting and stopping ask first, naming what they act on (a stray key costs nothing).
    BINDINGS = [
        Binding("ctrl+s", "start", "Start"),
        Binding("ctrl+t", "stop", "Stop"),
        Binding("ctrl+f", "toggle_form", "Form"),
        Binding("ctrl+l", "find_lr", "Find LR"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.progress = RunProgress()
        self.run_dir: Path | None = None
        self.children_pids: set[int] = set()
        self._lines_shown = 0
        self._carried_data = "sample"  # the data field's value as last carried from Data
        self._shown: dict[str, Any] = {}  # what each live widget shows now (see _render_progress)
        self._frame_due = False  # the fold changed since the live widgets were updated
        self._last_frame = 0.0  # time.monotonic() of the last update of the live widgets
        self.last_sweep: SweepDone | None = None  # the LR sweep's result, once one finished

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal():
            with VerticalScroll(classes="form", id="train-form"):
                yield Label("model")
                yield Select([], id="train-model", prompt="choose a zoo entry", compact=True)
                yield Label("data: sample, mnist, folder")
                yield Input("sample", id="train-data", compact=True)
                yield Label("epochs")
                yield Input(id="train-epochs", compact=True, type="integer")
                yield Label("batch size")
                yield Input(id="train-batch", compact=True, type="integer")
                yield Label("learning rate")
                yield Input(id="train-lr", compact=True)
                yield Button("Find LR (sweep)", id="train-lrfind", compact=True)
                yield Label("optimizer")
                yield Select(
                    [(o, o) for o in OPTIMIZERS],
                    id="train-optimizer",
                    allow_blank=False,
                    compact=True,
                )
                yield Label("augment: e.g. flip,rotation")
                yield Input(id="train-augment", compact=True)
                yield Label("limit images (blank = all)")
                yield Input(id="train-limit", compact=True, type="integer")
                with Horizontal(classes="buttons"):
                    yield Button("Start", id="train-start", variant="primary", compact=True)
                    yield Button("Stop", id="train-stop", variant="error", compact=True)
            with Vertical(id="train-live"):
                yield Static(
                    "No run yet: fill the form, then Start (Ctrl+S).",
                    id="train-title",
                    classes="status",
                )
                yield StatusLine("", id="train-status", classes="status")
                yield ProgressBar(id="train-progress", total=100, show_eta=False)
                with Horizontal(classes="charts"):
                    yield SeriesPlot("loss", id="train-loss")
                    yield SeriesPlot("accuracy", id="train-acc")
                yield Log(id="train-log", classes="log", auto_scroll=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from cnntui.core.registry import list_models

        select = self.query_one("#train-model", Select)
        select.set_options([(e.name, e.name) for e in list_models()])
        name = getattr(self.app, "selected_model", None)
        if name:
            self.select_model(name)
        self.query_one("#train-form").can_focus = False
        self._carry_data_source()
        self.set_interval(1.0, self._reap)
        self.call_after_refresh(settle_heap)  # the screen's widgets live as long as the app

    def on_screen_resume(self) -> None:
        self._carry_data_source()

    def _carry_data_source(self) -> None:
        """The source last inspected on the Data screen, unless the field was edited here."""
        source = getattr(self.app, "data_source", "sample")
        field = self.query_one("#train-data", Input)
        if source != self._carried_data and field.value.strip() == self._carried_data:
            field.value = source
            self._carried_data = source

    # -- the form ---------------------------------------------------------------------

    def select_model(self, name: str) -> None:
        """Choose a zoo entry and fill the form with its defaults."""
        from cnntui.core.registry import get_model

        entry = get_model(name)
        hp = entry.hyperparameters
        self.query_one("#train-model", Select).value = name
        self.query_one("#train-epochs", Input).value = str(hp.epochs)
        self.query_one("#train-batch", Input).value = str(hp.batch_size)
        self.query_one("#train-lr", Input).value = f"{hp.learning_rate:g}"
        optimizer = self.query_one("#train-optimizer", Select)
        if hp.optimizer in OPTIMIZERS:
            optimizer.value = hp.optimizer
        self.query_one("#train-form").display = True

    @on(Select.Changed, "#train-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != getattr(self, "_filled_for", None):
            self._filled_for = event.value
            self.select_model(event.value)

    def read_form(self) -> TrainConfig:
        """The form as a request; raises :class:`FormError` naming the bad field."""
        model = self.query_one("#train-model", Select).value
        if not isinstance(model, str):
            raise FormError("choose a model first (Zoo screen: n, or the model list here)")
        optimizer = self.query_one("#train-optimizer", Select).value

        def text(widget_id: str) -> str:
            return self.query_one(widget_id, Input).value

        return TrainConfig(
            model=model,
            data=text("#train-data").strip() or "sample",
            epochs=_opt_int(text("#train-epochs"), "epochs"),
            batch_size=_opt_int(text("#train-batch"), "batch size"),
            learning_rate=_opt_float(text("#train-lr"), "learning rate"),
            optimizer=optimizer if isinstance(optimizer, str) else None,
            augment=split_names(text("#train-augment")),
            limit=_opt_int(text("#train-limit"), "limit", minimum=2),
        )

    def action_toggle_form(self) -> None:
        form = self.query_one("#train-form")
        form.display = not form.display
        self.drop_hidden_focus()

    @on(Button.Pressed, "#train-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#train-stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    @on(Button.Pressed, "#train-lrfind")
    def _find_lr_pressed(self) -> None:
        self.action_find_lr()

    # -- starting and stopping --------------------------------------------------------

    def _free_request(self, what: str) -> TrainConfig | None:
        """The form's request when nothing is running (a run followed, the LR sweep);
        otherwise None, after saying why (``what`` names the action in the error title)."""
        if self.sweeping:
            self.notify("The LR sweep is running; wait for it or stop it (Ctrl+T).")
            return None
        if self.run_dir is not None and not self.progress.finished:
            self.notify("A run is being followed; stop it first (Ctrl+T).", severity="warning")
            return None
        try:
            return self.read_form()
        except FormError as exc:
            self.notify(str(exc), title=f"Cannot {what}", severity="error")
            return None

    def action_start(self) -> None:
        """Ask, naming model, data and epochs; start the run only on a yes."""
        request = self._free_request("start")
        if request is None:
            return
        epochs = (
            count(request.epochs, "epoch")
            if request.epochs is not None
            else "the default number of epochs"
        )
        question = f"Train {request.model} on {request.data or 'sample'} for {epochs}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_run(request)

        self.app.push_screen(Confirm(question, "Start"), answered)

    def start_run(self, request: TrainConfig) -> None:
        """Launch ``request`` now (no question asked)."""
        self._reset(f"Starting {request.model} on {request.data or 'sample'}…")
        self.start_worker(request)

    @work(
        thread=True, exclusive=True, group="launch", exit_on_error=False, name="Starting training"
    )
    def start_worker(self, request: TrainConfig) -> None:
        try:
            run, pid = launch(request, self.app.runs_dir, self.app.zoo_dirs)
        except CnntuiError as exc:
            self.post_message(LaunchFailed(exc.describe()))
            return
        except (ValueError, LookupError, OSError) as exc:
            self.post_message(LaunchFailed(str(exc)))
            return
        self.post_message(RunStarted(str(run.dir), pid))

    def on_run_started(self, message: RunStarted) -> None:
        self.children_pids.add(message.pid)
        self.follow(Path(message.run_dir))

    def on_launch_failed(self, message: LaunchFailed) -> None:
        self.query_one("#train-title", Static).update("Training did not start.")
        self.query_one("#train-log", Log).write_lines(message.reason.splitlines())
        self.notify(message.reason, title="Training did not start", severity="error", timeout=10)

    def action_stop(self) -> None:
        """Ask, naming the run; stop it (it saves ``last.keras`` first) on a yes."""
        from cnntui.core.runs import Run

        if self.sweeping:
            self.workers.cancel_group(self, "lrfind")
            self.query_one("#train-title", Static).update("LR sweep stopped; nothing was changed.")
            return
        if self.run_dir is None or self.progress.finished:
            self.notify("No running run to stop.", severity="warning")
            return
        run = Run(self.run_dir)

        def answered(yes: bool | None) -> None:
            if yes:
                self.notify(stop_run(run))

        self.app.push_screen(
            Confirm(f"Stop {run.id} after its current batch?", "Stop", variant="error"), answered
        )

    def _reap(self) -> None:
        """Collect our finished training processes so none lingers as a zombie."""
        self.children_pids = {pid for pid in self.children_pids if not reap(pid)}

    # -- following a run --------------------------------------------------------------

    def show_run(self, run_id: str) -> None:
        """Follow an existing run (running or not) by id."""
        from cnntui.core.runs import resolve_run

        run = resolve_run(run_id, self.app.runs_dir)
        self.follow(run.dir)

    def _reset(self, title: str) -> None:
        self.progress = RunProgress()
        self._lines_shown = 0
        self._shown = {}
        self.query_one("#train-title", Static).update(title)
        self.query_one("#train-status", StatusLine).set_text("")
        self.query_one("#train-progress", ProgressBar).update(total=100, progress=0)
        self.query_one("#train-log", Log).clear()
        for plot_id in ("#train-loss", "#train-acc"):
            self.query_one(plot_id, SeriesPlot).clear_series()
        self.query_one("#train-loss", SeriesPlot).xlabel = "epoch"  # the LR sweep changes it

    def follow(self, run_dir: Path) -> None:
        from cnntui.core.runs import Run

        run = Run(run_dir)
        self.run_dir = run_dir
        self._reset(f"{run.id}  ({run.model_name})")
        self.query_one("#train-form").display = False
        self.drop_hidden_focus()
        self.follow_worker(run_dir)

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False, name="Following run")
    def follow_worker(self, run_dir: Path) -> None:
        from cnntui.core.runs import EVENTS, FINAL_STATUSES, Run

        worker = get_current_worker()
        run = Run(run_dir)
        tail = EventTail(run_dir / EVENTS)
        last_status, last_check = "", 0.0
        while not worker.is_cancelled:
            events = tail.read_new()
            now = time.monotonic()
            status = last_status
            if events or now - last_check > 0.5:
                status, last_check = run.status, now
            if events or status != last_status:
                self.post_message(RunEvents(run.id, events, status))
                last_status = status
            if status in FINAL_STATUSES and not events:
                final = tail.read_new()
                if final:
                    self.post_message(RunEvents(run.id, final, status))
                return
            time.sleep(POLL_SECONDS)

    def on_run_events(self, message: RunEvents) -> None:
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
        loss = self.query_one("#train-loss", SeriesPlot)
        acc = self.query_one("#train-acc", SeriesPlot)
        now = time.monotonic()
        if p.batch_version != self._shown.get("batch") and (
            p.epoch_version != self._shown.get("epoch")
            or p.finished
            or now - self._shown.get("batch_time", 0.0) >= BATCH_PLOT_SECONDS
        ):
            self._shown["batch"], self._shown["batch_time"] = p.batch_version, now
            loss.set_series("batch", *p.batch_curve("loss"), marker="dot")
            acc.set_series("batch", *p.batch_curve(p.accuracy_key() or "accuracy"), marker="dot")
        if p.epoch_version != self._shown.get("epoch"):
            self._shown["epoch"] = p.epoch_version
            for key, plot in (
                ("loss", loss),
                ("val_loss", loss),
                ("accuracy", acc),
                ("val_accuracy", acc),
            ):
                xs, ys = p.curve(key)
                if xs:
                    plot.set_series(key, xs, ys, marker="x" if key.startswith("val_") else "hd")
        new = p.lines_since(self._lines_shown)
        if new:
            self.query_one("#train-log", Log).write_lines(new)
            self._lines_shown = p.line_count

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

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "launch":
            self.query_one("#train-title", Static).update("Training did not start.")
        elif worker.group == "lrfind":
            self.query_one("#train-title", Static).update("The LR sweep failed; form unchanged.")

    # -- the learning-rate finder -----------------------------------------------------

    @property
    def sweeping(self) -> bool:
        """Whether the LR sweep is running."""
        return any(w.group == "lrfind" and not w.is_finished for w in self.workers)

    def action_find_lr(self) -> None:
        """Sweep the LR for the form's model, data and batch size; fill in the suggestion."""
        request = self._free_request("sweep")
        if request is None:
            return
        self.run_dir = None
        self._reset(f"LR sweep: {request.model} on {request.data}…")
        self.query_one("#train-loss", SeriesPlot).xlabel = "log10 lr"
        self.lr_worker(request)

    @work(thread=True, exclusive=True, group="lrfind", exit_on_error=False, name="Finding the LR")
    def lr_worker(self, request: TrainConfig) -> None:
        from cnntui.core.train.lr_find import find_lr

        worker = get_current_worker()

        def on_step(step: int, total: int, lr: float, loss: float) -> None:
            if worker.is_cancelled:
                raise _SweepCancelled
            self.post_message(SweepStep(step, total, lr, loss))

        try:
            sweep, info = find_lr(request, on_step=on_step)
        except _SweepCancelled:
            return
        self.post_message(SweepDone(sweep.to_dict(), info))

    def on_sweep_step(self, message: SweepStep) -> None:
        self.query_one("#train-status", StatusLine).set_text(
            f"step {message.step}/{message.total}  lr {message.lr:.1e}  "
            f"smoothed loss {message.loss:.4f}"
        )
        self.query_one("#train-progress", ProgressBar).update(
            total=message.total, progress=message.step
        )

    def on_sweep_done(self, message: SweepDone) -> None:
        import math

        sweep, info = message.sweep, message.info
        self.last_sweep = message
        pairs = zip(sweep["lrs"], sweep["smoothed"], strict=True)
        points = [(math.log10(x), y) for x, y in pairs if y is not None]
        plot = self.query_one("#train-loss", SeriesPlot)
        plot.set_series("smoothed loss", [p[0] for p in points], [p[1] for p in points])
        log = self.query_one("#train-log", Log)
        tried = f"{len(sweep['lrs'])} of {info['steps']} steps"
        if sweep["stopped_early"]:
            tried += ", stopped when the loss exploded"
        log.write_line(
            f"{info['model']} on {info['data']}: batch {info['batch_size']}, "
            f"{info['optimizer']}, {tried}"
        )
        suggestion = sweep["suggestion"]
        if not suggestion:
            self.query_one("#train-title", Static).update("LR sweep: no suggestion")
            log.write_line("The loss never fell: no suggestion; the form is unchanged.")
            return
        if points:
            ys = [p[1] for p in points]
            x = math.log10(suggestion)
            plot.set_series("suggested", [x, x], [min(ys), max(ys)], marker="x")
        for rule, value in sweep["suggestions"].items():
            log.write_line(f"  {rule}: {value:.2e}")
        value = f"{suggestion:.2g}"
        self.query_one("#train-lr", Input).value = value
        self.query_one("#train-title", Static).update(
            f"LR sweep: suggested {value} (valley), filled in; Start (Ctrl+S) to train"
        )
        self.query_one("#train-form").display = True


class _SweepCancelled(Exception):
    """Raised inside the sweep's step callback when its worker was cancelled."""
