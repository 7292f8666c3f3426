"""A ``phase`` event when fine-tuning moves from training the head to training the backbone
too (and at the start of each phase a run resumes in), for the live view, the event lines
and the TUI."""

from __future__ import annotations

import keras

from cnntui.core.train.events import EventLog
from cnntui.core.train.finetune import FinetunePlan

TEXT = {1: "head only, backbone frozen", 2: "backbone unfrozen"}


class PhaseEvents(keras.callbacks.Callback):
    """Emits ``phase`` (``phase``, ``epoch`` counted from 1, ``text``) as an epoch begins
    in another phase than the one before it."""

    def __init__(self, log: EventLog, plan: FinetunePlan):
        super().__init__()
        self.log = log
        self.plan = plan
        self.current: int | None = None

    def on_epoch_begin(self, epoch, logs=None):
        phase = self.plan.phase(epoch)
        if phase == self.current:
            return
        self.current = phase
        text = TEXT[phase] + (f" ({self.plan.unfrozen})" if phase == 2 else "")
        self.log.emit("phase", phase=phase, epoch=epoch + 1, text=text)
