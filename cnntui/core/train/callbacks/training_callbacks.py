"""The callbacks of one run, by type, in ``fit``'s order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras

from cnntui.core.train.callbacks.early_stopping import ResumableEarlyStopping
from cnntui.core.train.callbacks.ema_finish import EmaFinish
from cnntui.core.train.callbacks.ema_swap import EmaSwap
from cnntui.core.train.callbacks.event_callback import EventCallback
from cnntui.core.train.callbacks.nan_guard import NaNGuard
from cnntui.core.train.callbacks.phase_events import PhaseEvents
from cnntui.core.train.callbacks.reduce_lr_on_plateau import ResumableReduceLROnPlateau
from cnntui.core.train.callbacks.run_checkpoint import RunCheckpoint
from cnntui.core.train.callbacks.step_lr import StepLR
from cnntui.core.train.callbacks.time_budget import TimeBudget


@dataclass
class TrainingCallbacks:
    """The callbacks of one run, by type. ``extra`` (late skips, TensorBoard), then the
    per-step LR and the time budget, run after the built-in ones and before ``events``,
    so an ``epoch`` event sees their work. The EMA swap runs first (before the
    checkpoint), its finish last."""

    checkpoint: RunCheckpoint
    nan_guard: NaNGuard
    events: EventCallback
    early_stopping: ResumableEarlyStopping | None = None
    reduce_lr: ResumableReduceLROnPlateau | None = None
    extra: list[keras.callbacks.Callback] = field(default_factory=list)
    step_lr: StepLR | None = None
    time_budget: TimeBudget | None = None
    ema_swap: EmaSwap | None = None
    ema_finish: EmaFinish | None = None
    phase: PhaseEvents | None = None  # fine-tuning's phases, announced before the epoch

    def as_list(self) -> list[keras.callbacks.Callback]:
        """In ``fit``'s order: ``last.keras`` is saved before the ``epoch`` event."""
        middle = [
            self.early_stopping, self.reduce_lr, *self.extra, self.step_lr, self.time_budget,
            self.phase,
        ]  # fmt: skip
        return [
            cb
            for cb in (
                self.ema_swap,
                self.checkpoint,
                self.nan_guard,
                *middle,
                self.events,
                self.ema_finish,
            )
            if cb is not None
        ]

    def resume_state(self) -> dict[str, Any]:
        """What ``state.json`` keeps so that ``--resume`` continues exactly."""
        state = self.checkpoint.saved_state()
        if self.early_stopping is not None:
            state["early_stopping"] = self.early_stopping.saved_state()
        if self.reduce_lr is not None:
            state["reduce_lr"] = self.reduce_lr.saved_state()
        return state
