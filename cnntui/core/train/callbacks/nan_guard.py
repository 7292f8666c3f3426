"""A non-finite loss ends the run as ``failed``, with a reason for people."""

from __future__ import annotations

import math

import keras

from cnntui.core.train.callbacks.base import AsyncBatchHooks
from cnntui.core.train.progress import Progress


class NaNGuard(AsyncBatchHooks, keras.callbacks.TerminateOnNaN):
    """``TerminateOnNaN`` that records a reason for people instead of printing (the first
    batch whose loss was not finite, however the hooks were ordered)."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self._first_bad: tuple[int, int] | None = None  # (epoch, batch)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        with self.batch_lock:
            where = (self.progress.epoch, batch)
            if self._first_bad is not None and self._first_bad <= where:
                return
            self._first_bad = where
            kind = "NaN" if loss != loss else "infinite"
            self.progress.failure = (
                f"loss became {kind} in epoch {self.progress.epoch}, batch {batch + 1}; "
                "try a lower learning rate (--lr) or check the data"
            )
            self._model.stop_training = True
