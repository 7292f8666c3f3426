"""``--reduce-lr``, ``--schedule plateau``: Keras's ``ReduceLROnPlateau``, resumable."""

from __future__ import annotations

from typing import Any

import keras

from cnntui.core.train.callbacks.base import ResumableCounters


class ResumableReduceLROnPlateau(ResumableCounters, keras.callbacks.ReduceLROnPlateau):
    """``ReduceLROnPlateau(factor=0.5)`` that resumes its counters."""

    COUNTERS = ("wait", "cooldown_counter")

    def __init__(self, monitor: str, patience: int, saved: dict[str, Any] | None = None):
        super().__init__(monitor=monitor, factor=0.5, patience=patience, min_lr=1e-7, verbose=0)
        self.saved = saved
