"""Train: a form from the entry's defaults; Start launches a run; the screen follows it live.

Find LR runs the learning-rate sweep of ``cnntui lr-find`` in a worker thread, draws its
smoothed loss and fills the learning-rate field with the suggestion.

The screen composes the widgets that do the work and routes their messages:
:class:`TrainForm` (the request; Start, Stop, Find LR), :class:`RunView` (a run followed,
or the sweep's curve), :class:`Launcher` (starting runs) and :class:`LrSweep`.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.worker import Worker

from cnntui.core.event_stream import RunProgress
from cnntui.core.formats import count
from cnntui.core.train.config import TrainConfig
from cnntui.tui.heap import settle_heap
from cnntui.tui.launch import stop_run
from cnntui.tui.messages import (
    LaunchFailed,
    RunStarted,
    StartAsked,
    StopAsked,
    SweepAsked,
    SweepDone,
    SweepStep,
)
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.confirm import Confirm
from cnntui.tui.widgets.launcher import Launcher
from cnntui.tui.widgets.lr_sweep import LrSweep
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.run_view import RunView
from cnntui.tui.widgets.train_form import FormError, TrainForm

__all__ = ["FormError", "TrainScreen"]


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

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal():
            yield TrainForm(classes="form", id="train-form")
            yield RunView(id="train-live")
        yield Launcher()
        yield LrSweep()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        name = self.workbench.selected_model
        if name:
            self.select_model(name)
        self.form.can_focus = False  # its fields take the focus (the first focus is done)
        self.form.carry_data(self.workbench.data_source)
        self.call_after_refresh(settle_heap)  # the screen's widgets live as long as the app

    def on_screen_resume(self) -> None:
        self.form.carry_data(self.workbench.data_source)

    # -- the parts --------------------------------------------------------------------

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

    @property
    def view(self) -> RunView:
        return self.query_one(RunView)

    @property
    def sweep(self) -> LrSweep:
        return self.query_one(LrSweep)

    @property
    def progress(self) -> RunProgress:
        """The fold of the run shown."""
        return self.view.progress

    @property
    def run_dir(self) -> Path | None:
        """The run followed, if any."""
        return self.view.run_dir

    @property
    def sweeping(self) -> bool:
        """Whether the LR sweep is running."""
        return self.sweep.running

    @property
    def last_sweep(self) -> SweepDone | None:
        """The LR sweep's result, once one finished."""
        return self.sweep.last

    # -- the form ---------------------------------------------------------------------

    def select_model(self, name: str) -> None:
        """Choose a zoo entry and fill the form with its defaults."""
        self.form.fill(name)
        self.form.display = True

    def read_form(self) -> TrainConfig:
        """The form as a request; raises :class:`FormError` naming the bad field."""
        return self.form.read()

    def action_toggle_form(self) -> None:
        self.form.display = not self.form.display
        self.drop_hidden_focus()

    @on(StartAsked)
    def _start_asked(self) -> None:
        self.action_start()

    @on(StopAsked)
    def _stop_asked(self) -> None:
        self.action_stop()

    @on(SweepAsked)
    def _sweep_asked(self) -> None:
        self.action_find_lr()

    # -- starting and stopping --------------------------------------------------------

    def _free_request(self, what: str) -> TrainConfig | None:
        """The form's request when nothing is running (a run followed, the LR sweep);
        otherwise None, after saying why (``what`` names the action in the error title)."""
        if self.sweeping:
            self.notify("The LR sweep is running; wait for it or stop it (Ctrl+T).")
            return None
        if self.view.following:
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
        self.view.reset(f"Starting {request.model} on {request.data or 'sample'}…")
        app = self.workbench
        self.query_one(Launcher).start(request, app.runs_dir, app.zoo_dirs)

    def on_run_started(self, message: RunStarted) -> None:
        self.follow(Path(message.run_dir))

    def on_launch_failed(self, message: LaunchFailed) -> None:
        self.view.set_title("Training did not start.")
        self.view.write_lines(message.reason.splitlines())
        self.notify(message.reason, title="Training did not start", severity="error", timeout=10)

    def action_stop(self) -> None:
        """Ask, naming the run; stop it (it saves ``last.keras`` first) on a yes."""
        from cnntui.core.runs import Run

        if self.sweeping:
            self.sweep.cancel()
            self.view.set_title("LR sweep stopped; nothing was changed.")
            return
        if self.run_dir is None or not self.view.following:
            self.notify("No running run to stop.", severity="warning")
            return
        run = Run(self.run_dir)

        def answered(yes: bool | None) -> None:
            if yes:
                self.notify(stop_run(run))

        self.app.push_screen(
            Confirm(f"Stop {run.id} after its current batch?", "Stop", variant="error"), answered
        )

    # -- following a run --------------------------------------------------------------

    def show_run(self, run_id: str) -> None:
        """Follow an existing run (running or not) by id."""
        from cnntui.core.runs import resolve_run

        self.follow(resolve_run(run_id, self.workbench.runs_dir).dir)

    def follow(self, run_dir: Path) -> None:
        """Follow the run in ``run_dir``, the form hidden."""
        self.view.follow(run_dir)
        self.form.display = False
        self.drop_hidden_focus()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        if worker.group == "launch":
            self.view.set_title("Training did not start.")
        elif worker.group == "lrfind":
            self.view.set_title("The LR sweep failed; form unchanged.")

    # -- the learning-rate finder -----------------------------------------------------

    def action_find_lr(self) -> None:
        """Sweep the LR for the form's model, data and batch size; fill in the suggestion."""
        request = self._free_request("sweep")
        if request is None:
            return
        self.view.forget_run()
        self.view.reset(f"LR sweep: {request.model} on {request.data}…", xlabel="log10 lr")
        self.sweep.start(request)

    def on_sweep_step(self, message: SweepStep) -> None:
        self.view.show_sweep_step(message)

    def on_sweep_done(self, message: SweepDone) -> None:
        suggestion = self.view.show_sweep(message)
        if suggestion is not None:
            self.form.set_learning_rate(suggestion)
            self.form.display = True
