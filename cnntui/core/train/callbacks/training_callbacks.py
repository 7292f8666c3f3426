"""The callbacks of one run, by type, in ``fit``'s order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras

from cnntui.core.train.callbacks.early_stopping import ResumableEarlyStopping
from cnntui.core.train.callbacks.event_callback import EventCallback
from cnntui.core.train.callbacks.nan_guard import NaNGuard
from cnntui.core.train.callbacks.reduce_lr_on_plateau import ResumableReduceLROnPlateau
from cnntui.core.train.callbacks.run_checkpoint import RunCheckpoint


@dataclass
class TrainingCallbacks:
    """The callbacks of one run, by type. ``extra`` (TensorBoard, recipe callbacks) runs
    after the built-in ones and before ``events``, so an ``epoch`` event sees their work."""

    checkpoint: RunCheckpoint
    nan_guard: NaNGuard
    events: EventCallback
    early_stopping: ResumableEarlyStopping | None = None
    reduce_lr: ResumableReduceLROnPlateau | None = None
    extra: list[keras.callbacks.Callback] = field(default_factory=list)
    first: list[keras.callbacks.Callback] = field(default_factory=list)  # EMA weight swap
    last: list[keras.callbacks.Callback] = field(default_factory=list)  # EMA finish

    def as_list(self) -> list[keras.callbacks.Callback]:
        """In ``fit``'s order: ``last.keras`` is saved before the ``epoch`` event."""
        optional = [self.early_stopping, self.reduce_lr]
        return [
            *self.first,
            self.checkpoint,
            self.nan_guard,
            *(cb for cb in optional if cb is not None),
            *self.extra,
            self.events,
            *self.last,
        ]

    def resume_state(self) -> dict[str, Any]:
        """What ``state.json`` keeps so that ``--resume`` continues exactly."""
        state = self.checkpoint.saved_state()
        if self.early_stopping is not None:
            state["early_stopping"] = self.early_stopping.saved_state()
        if self.reduce_lr is not None:
            state["reduce_lr"] = self.reduce_lr.saved_state()
        return state
