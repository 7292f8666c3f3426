"""Train: a form from the entry's defaults; Start launches a run; the screen follows it live."""

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
    Header,
    Input,
    Label,
    Log,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import get_current_worker

from cnntui.core.errors import CnntuiError
from cnntui.core.train.config import OPTIMIZERS, TrainConfig, split_names
from cnntui.tui.follow import EventTail, RunProgress
from cnntui.tui.launch import launch, reap, stop_run
from cnntui.tui.messages import LaunchFailed, RunEvents, RunStarted
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.plots import SeriesPlot

POLL_SECONDS = 0.1  # events are read (and charts fed) at most ten times a second


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

    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("x", "stop", "Stop"),
        Binding("f", "toggle_form", "Form"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.progress = RunProgress()
        self.run_dir: Path | None = None
        self.children_pids: set[int] = set()
        self._lines_shown = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with VerticalScroll(classes="form", id="train-form"):
                yield Label("model")
                yield Select([], id="train-model", prompt="choose a zoo entry", compact=True)
                yield Label("data (sample, mnist, a folder…)")
                yield Input("sample", id="train-data", compact=True)
                yield Label("epochs")
                yield Input(id="train-epochs", compact=True, type="integer")
                yield Label("batch size")
                yield Input(id="train-batch", compact=True, type="integer")
                yield Label("learning rate")
                yield Input(id="train-lr", compact=True)
                yield Label("optimizer")
                yield Select(
                    [(o, o) for o in OPTIMIZERS],
                    id="train-optimizer",
                    allow_blank=False,
                    compact=True,
                )
                yield Label("augmentation (e.g. flip,rotate)")
                yield Input(id="train-augment", compact=True)
                yield Label("limit images (blank = all)")
                yield Input(id="train-limit", compact=True, type="integer")
                with Horizontal(classes="buttons"):
                    yield Button("Start", id="train-start", variant="primary", compact=True)
                    yield Button("Stop", id="train-stop", variant="error", compact=True)
            with Vertical(id="train-live"):
                yield Static(
                    "No run yet: fill the form and press s to start.",
                    id="train-title",
                    classes="status",
                )
                yield Static("", id="train-status", classes="status")
                yield ProgressBar(id="train-progress", total=100, show_eta=False)
                with Horizontal(classes="charts"):
                    yield SeriesPlot("loss", id="train-loss")
                    yield SeriesPlot("accuracy", id="train-acc")
                yield Log(id="train-log", classes="log", auto_scroll=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from cnntui.core.registry import list_models

        self.title = "cnntui — Train"
        select = self.query_one("#train-model", Select)
        select.set_options([(e.name, e.name) for e in list_models()])
        name = getattr(self.app, "selected_model", None)
        if name:
            self.select_model(name)
        self.query_one("#train-form").can_focus = False
        self.set_interval(1.0, self._reap)

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

    @on(Button.Pressed, "#train-start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#train-stop")
    def _stop_pressed(self) -> None:
        self.action_stop()

    # -- starting and stopping --------------------------------------------------------

    def action_start(self) -> None:
        if self.run_dir is not None and not self.progress.finished:
            self.notify("A run is being followed; stop it first (x).", severity="warning")
            return
        try:
            request = self.read_form()
        except FormError as exc:
            self.notify(str(exc), title="Cannot start", severity="error")
            return
        self._reset(f"Starting {request.model} on {request.data}…")
        self.start_worker(request)

    @work(
        thread=True, exclusive=True, group="launch", exit_on_error=False, name="Starting training"
    )
    def start_worker(self, request: TrainConfig) -> None:
        try:
            run, pid = launch(request, self.app.runs_dir, self.app.zoo_dirs)
        except CnntuiError as exc:
            self.post_message(LaunchFailed(exc.describe()))
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
        from cnntui.core.runs import Run

        if self.run_dir is None:
            self.notify("No run to stop.", severity="warning")
            return
        self.notify(stop_run(Run(self.run_dir)))

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
        self.query_one("#train-title", Static).update(title)
        self.query_one("#train-status", Static).update("")
        self.query_one("#train-progress", ProgressBar).update(total=100, progress=0)
        self.query_one("#train-log", Log).clear()
        for plot_id in ("#train-loss", "#train-acc"):
            self.query_one(plot_id, SeriesPlot).clear_series()

    def follow(self, run_dir: Path) -> None:
        from cnntui.core.runs import Run

        run = Run(run_dir)
        self.run_dir = run_dir
        self._reset(f"{run.id}  ({run.model_name})")
        self.query_one("#train-form").display = False
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
        p = self.progress
        p.feed(message.events)
        if message.status in ("finished", "stopped", "failed", "interrupted"):
            if not p.finished:
                p.state = message.status
                p.lines.append(f"run is {message.status}")
        self._render_progress()

    def _render_progress(self) -> None:
        p = self.progress
        self.query_one("#train-status", Static).update(p.status_line())
        self.query_one("#train-progress", ProgressBar).update(
            total=100, progress=round(p.fraction * 100, 1)
        )
        loss = self.query_one("#train-loss", SeriesPlot)
        acc = self.query_one("#train-acc", SeriesPlot)
        loss.set_series("batch", p.batch_x, p.batch_loss, marker="dot")
        acc.set_series("batch", p.batch_x, p.batch_acc, marker="dot")
        for key, plot in (
            ("loss", loss),
            ("val_loss", loss),
            ("accuracy", acc),
            ("val_accuracy", acc),
        ):
            if key in p.history:
                plot.set_series(
                    key, p.epoch_x, p.history[key], marker="x" if key.startswith("val_") else "hd"
                )
        log = self.query_one("#train-log", Log)
        new = p.lines[self._lines_shown :]
        if new:
            log.write_lines(new)
            self._lines_shown = len(p.lines)

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "launch":
            self.query_one("#train-title", Static).update("Training did not start.")
