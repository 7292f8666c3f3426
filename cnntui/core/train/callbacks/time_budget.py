"""``--time``: the epochs a wall-clock budget allows, projected after each epoch (see
``budget.py`` for the budget, its probe and its clock)."""

from __future__ import annotations

import time

import keras

from cnntui.core.train.budget import Budget, epochs_left, format_duration
from cnntui.core.train.callbacks.base import AsyncBatchHooks
from cnntui.core.train.callbacks.step_lr import StepLR


class TimeBudget(AsyncBatchHooks, keras.callbacks.Callback):
    """``--time``: project the epochs the budget allows after each epoch; stop when spent.

    Its batch hook only starts the budget's clock, once (so it is ``async_safe``).
    """

    def __init__(
        self, budget: Budget, planned_epochs: int, steps_per_epoch: int, step_lr: StepLR | None
    ):
        super().__init__()
        self.budget, self.planned = budget, planned_epochs
        self.steps_per_epoch, self.step_lr = steps_per_epoch, step_lr
        self.epoch_started = 0.0
        self.durations: list[float] = []
        self.stopped = False
        self.stop_reason = ""
        self.used = 0.0

    def on_train_begin(self, logs=None):
        self.params["epochs"] = self.planned  # what events and the live view show
        self.params["epochs_estimated"] = True  # shown as "epoch 2/~72"
        self.params["budget_left"] = self.budget.left  # the ETA never exceeds what is left

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.budget.started is None:  # the traced first step is setup, not budget
            self.budget.start()
            self.epoch_started = self.budget.started

    def on_train_end(self, logs=None):
        self.used = self.budget.elapsed()

    def record(self) -> dict[str, float]:
        """What ``metrics.json`` keeps: the budget and the seconds training used."""
        return {"seconds": self.budget.seconds, "used_seconds": round(self.used, 3)}

    def on_epoch_end(self, epoch, logs=None):
        self.durations.append(time.monotonic() - self.epoch_started)
        more = epochs_left(self.budget.left(), self.durations)
        self.params["epochs"] = epoch + 1 + more
        if self.step_lr is not None and more:
            self.step_lr.refit((epoch + 1 + more) * self.steps_per_epoch)
        if more == 0:
            self.model.stop_training = True
            self.stopped = True
            self.stop_reason = (
                f"{format_duration(self.budget.seconds)} spent, less than half an epoch "
                f"left ({self.budget.elapsed():.1f}s of training)"
            )


def budget_callback(
    budget: Budget, planned_epochs: int, steps_per_epoch: int, step_lr: StepLR | None = None
) -> TimeBudget:
    """Keep ``params["epochs"]`` at the epochs the budget allows; stop when it is spent.

    ``fit`` runs with room for more epochs than planned (a faster machine than the probe
    said trains on at the schedule's final LR); after each epoch the count is projected
    from the measured epoch times, and training stops when less than half an epoch is
    left (so the run ends within half an epoch of its budget). ``step_lr`` (the per-step
    LR callback) gets the projected step count, so the schedule ends with the budget.
    """
    return TimeBudget(budget, planned_epochs, steps_per_epoch, step_lr)
