"""The atomic counterpart of Keras's ``ModelCheckpoint`` (see ``checkpoint.py``)."""

from __future__ import annotations

import math
from typing import Any

import keras

from cnntui.core.atomic import atomic_copy
from cnntui.core.runs import BEST, LAST, Run
from cnntui.core.train.checkpoint import save_model
from cnntui.core.train.progress import Progress


class RunCheckpoint(keras.callbacks.Callback):
    """Atomic ``last.keras`` every epoch, ``best.keras`` at the lowest ``monitor`` (a hard
    link to that epoch's ``last.keras``: one save per epoch).

    A stopped, partial epoch saves ``last.keras`` only, and only when an earlier epoch
    completed: a run stopped in its first epoch has nothing to resume from.
    """

    def __init__(
        self,
        run: Run,
        progress: Progress,
        *,
        monitor: str,
        best: float | None = None,
        best_epoch: int | None = None,
    ):
        super().__init__()
        self.run, self.progress, self.monitor = run, progress, monitor
        self.best = math.inf if best is None else float(best)
        self.best_epoch = best_epoch

    def on_epoch_end(self, epoch, logs=None):
        p = self.progress
        if p.failure:
            return  # NaN weights must not replace the last good checkpoint
        if p.cut_short() and p.nothing_to_resume():
            return  # no completed epoch: a checkpoint would be costly and useless
        save_model(self.model, self.run.path(LAST))
        if not p.cut_short():
            self._keep_if_best(epoch, (logs or {}).get(self.monitor))

    def _keep_if_best(self, epoch: int, value: Any) -> None:
        try:
            value = float(value)
        except (TypeError, ValueError):
            return
        if math.isfinite(value) and value < self.best:
            self.best, self.best_epoch = value, epoch + 1
            # the same weights: a hard link to last.keras (or a copy), not a second save
            atomic_copy(self.run.path(LAST), self.run.path(BEST))

    def saved_state(self) -> dict[str, Any]:
        """The best so far, as ``state.json`` keeps it."""
        best = self.best if math.isfinite(self.best) else None
        return {"best": best, "best_epoch": self.best_epoch, "monitor": self.monitor}
