"""The end of an EMA run cut short (see ``ema_swap.py``)."""

from __future__ import annotations

import keras

from cnntui.core.train.callbacks.ema_swap import EmaSwap
from cnntui.core.train.progress import Progress


class EmaFinish(keras.callbacks.Callback):
    """Make the average final when a run ends early, except on a stop request."""

    def __init__(self, swap: EmaSwap, progress: Progress):
        super().__init__()
        self.swap, self.progress = swap, progress

    def on_epoch_end(self, epoch, logs=None):
        last = epoch == self.params.get("epochs", 0) - 1
        ending = self.model.stop_training and not self.progress.stop.is_set()
        if ending and not last and self.swap.holds_average:
            self.swap.finalize()


def ema_callbacks(resumed: bool, progress: Progress) -> tuple[EmaSwap, EmaFinish]:
    """(swap, finish): ``swap`` goes before the checkpoint callbacks, ``finish`` last."""
    swap = EmaSwap(resumed)
    return swap, EmaFinish(swap, progress)
