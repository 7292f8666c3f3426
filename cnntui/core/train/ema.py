"""An exponential moving average of the weights that validation and checkpoints use.

The optimizer keeps the average (``use_ema=True``); Keras's ``SwapEMAWeights`` swaps it
into the model for validation and at each epoch end, so ``best.keras``/``last.keras``
hold the averaged weights and the raw ones wait in the optimizer's average slots. On
``--resume`` the loaded model is in that swapped state, so the first epoch swaps back and
training continues from the raw weights, exactly as the uninterrupted run would. When a
run ends early (early stopping, the time budget) the average is made final, so ``fit``'s
own EMA overwrite keeps the averaged weights in the model; a stop request (Ctrl+C) leaves
the raw weights in the optimizer, for ``--resume``.
"""

from __future__ import annotations

import functools


def ema_callbacks(resumed: bool, progress) -> tuple[object, object]:
    """(swap, finish): ``swap`` goes before the checkpoint callbacks, ``finish`` last."""
    swap = _swap_class()(resumed)
    return swap, _finish_class()(swap, progress)


@functools.cache
def _swap_class():
    import keras

    class EmaSwap(keras.callbacks.SwapEMAWeights):
        def __init__(self, resumed: bool):
            super().__init__(swap_on_epoch=True)
            self.resumed = resumed

        def on_train_begin(self, logs=None):
            self._ema_weights_in_model = self.resumed

    return EmaSwap


@functools.cache
def _finish_class():
    import keras

    class EmaFinish(keras.callbacks.Callback):
        def __init__(self, swap, progress):
            super().__init__()
            self.swap, self.progress = swap, progress

        def on_epoch_end(self, epoch, logs=None):
            last = epoch == self.params.get("epochs", 0) - 1
            ending = self.model.stop_training and not self.progress.stop.is_set()
            if ending and not last and self.swap._ema_weights_in_model:
                self.swap._finalize_ema_values()

    return EmaFinish
