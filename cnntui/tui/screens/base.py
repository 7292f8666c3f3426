"""The base of every screen: worker failures are reported in one place."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from cnntui.core.errors import CnntuiError


class WorkbenchScreen(Screen):
    """A screen whose failed workers become one readable notification, never a crash."""

    BINDINGS = [Binding("escape", "leave_input", "Leave field", show=False)]

    def action_leave_input(self) -> None:
        """Escape from a text field so single-key shortcuts work again."""
        if isinstance(self.focused, Input):
            self.focus_next()
            if isinstance(self.focused, Input):
                self.set_focus(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            what = event.worker.name or "background task"
            detail = error.describe() if isinstance(error, CnntuiError) else error
            message = f"{what} failed: {detail}" if error else f"{what} failed"
            self.app.notify(message, title="Error", severity="error", timeout=8)
            self.worker_failed(event.worker, error)
        elif event.state == WorkerState.SUCCESS:
            self.worker_done(event.worker)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """Hook: undo busy indicators after a failure."""

    def worker_done(self, worker: Worker) -> None:
        """Hook: a worker finished."""
