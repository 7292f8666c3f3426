"""``--patience``: Keras's ``EarlyStopping`` that a resumed run continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from cnntui.core.train.callbacks.base import ResumableCounters


class ResumableEarlyStopping(ResumableCounters, keras.callbacks.EarlyStopping):
    """``EarlyStopping(restore_best_weights=True)`` that resumes its counters (and the
    best weights, from ``best_path``)."""

    def __init__(
        self,
        monitor: str,
        patience: int,
        saved: dict[str, Any] | None = None,
        best_path: Path | None = None,
    ):
        super().__init__(monitor=monitor, patience=patience, restore_best_weights=True, verbose=0)
        self.saved, self.best_path = saved, best_path
        self.stopped = False

    def restored(self) -> None:
        if self.best_path is not None and self.best_path.exists():
            best = keras.models.load_model(self.best_path, compile=False)
            self.best_weights = best.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.stopped = self.stopped_epoch > 0
