"""``Progress``: where one run's training is, shared by its callbacks and its session."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Progress:
    """Where training is; shared by the callbacks of one run."""

    epoch: int = 0  # 1-based epoch in progress (or just ended)
    step: int = 0  # batches done in this epoch
    steps: int | None = None
    epochs_completed: int = 0
    partial_epoch: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = ""
    failure: str = ""  # set when training must end as failed (NaN loss)
    test_metrics: dict[str, float] = field(default_factory=dict)

    def cut_short(self) -> bool:
        """The epoch ending now was interrupted (stop request or failure) before its end."""
        interrupted = self.stop.is_set() or bool(self.failure)
        return bool(interrupted and self.steps and self.step < self.steps)

    def nothing_to_resume(self) -> bool:
        """The run stopped before completing any epoch: no checkpoint is worth writing."""
        return self.epochs_completed == 0

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()
