"""The Train screen's learning-rate sweep (``cnntui lr-find``) in a thread worker: it posts
:class:`SweepStep` as it goes (a newer one replaces an older one still queued) and
:class:`SweepDone` at the end. It draws nothing itself: the screen routes both messages."""

from __future__ import annotations

from textual import work
from textual.widget import Widget
from textual.worker import get_current_worker

from cnntui.core.train.config import TrainConfig
from cnntui.tui.messages import SweepDone, SweepStep
from cnntui.tui.screens.base import ScreenReportsWork

GROUP = "lrfind"


class LrSweep(ScreenReportsWork, Widget):
    """Runs one LR sweep at a time; keeps the last result."""

    DEFAULT_CSS = "LrSweep { display: none; }"

    def __init__(self) -> None:
        super().__init__()
        self.last: SweepDone | None = None  # the last sweep's result, once one finished

    @property
    def running(self) -> bool:
        """Whether a sweep is running."""
        return any(w.group == GROUP and not w.is_finished for w in self.workers)

    def start(self, request: TrainConfig) -> None:
        """Sweep the LR for ``request``'s model, data and batch size."""
        self._sweep(request)

    def cancel(self) -> None:
        """Stop the sweep at its next step."""
        self.workers.cancel_group(self, GROUP)

    @work(thread=True, exclusive=True, group=GROUP, exit_on_error=False, name="Finding the LR")
    def _sweep(self, request: TrainConfig) -> None:
        from cnntui.core.train.lr_find import find_lr

        worker = get_current_worker()

        def on_step(step: int, total: int, lr: float, loss: float) -> None:
            if worker.is_cancelled:
                raise SweepCancelled
            self.post_message(SweepStep(step, total, lr, loss))

        try:
            sweep, info = find_lr(request, on_step=on_step)
        except SweepCancelled:
            return
        self.post_message(SweepDone(sweep.to_dict(), info))

    def on_sweep_done(self, message: SweepDone) -> None:
        self.last = message  # and on to the screen


class SweepCancelled(Exception):
    """Raised inside the sweep's step callback when its worker was cancelled."""
