"""A learning rate set per step from a schedule that may be refit (``--time`` runs)."""

from __future__ import annotations

import dataclasses

import keras

from cnntui.core.train.schedules import SchedulePlan


class StepLR(keras.callbacks.Callback):
    """Set the LR of every step from a :class:`SchedulePlan` that may be refit."""

    def __init__(self, plan: SchedulePlan, initial_step: int):
        super().__init__()
        self.plan, self.step = plan, initial_step

    def on_train_begin(self, logs=None):
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.plan.lr_at(self.step)
        self.step += 1

    def refit(self, total_steps: int) -> None:
        """Fit the curve to a new length from here on (warm-up unchanged)."""
        self.plan = dataclasses.replace(self.plan, total_steps=max(1, total_steps))


def step_lr_callback(plan: SchedulePlan, initial_step: int = 0) -> StepLR:
    """A callback that sets the LR of every step from ``plan`` (``--time`` runs).

    Used where the plan changes during training: the time budget refits the step count
    after each epoch (as Ultralytics does), which an in-graph Keras schedule cannot
    follow without retracing. The optimizer keeps a plain float LR, so checkpoints open
    with ``keras.models.load_model``; the step comes from ``optimizer.iterations``.
    """
    return StepLR(plan, initial_step)
