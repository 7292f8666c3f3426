"""An exponential moving average of the weights that validation and checkpoints use.

The optimizer keeps the average (``use_ema=True``); Keras's ``SwapEMAWeights`` swaps it
into the model for validation and at each epoch end, so ``best.keras``/``last.keras``
hold the averaged weights and the raw ones wait in the optimizer's average slots. On
``--resume`` the loaded model is in that swapped state, so the first epoch swaps back and
training continues from the raw weights, exactly as the uninterrupted run would. When a
run ends early (early stopping, the time budget) the average is made final
(:class:`~cnntui.core.train.callbacks.ema_finish.EmaFinish`), so ``fit``'s own EMA
overwrite keeps the averaged weights in the model; a stop request (Ctrl+C) leaves the raw
weights in the optimizer, for ``--resume``.
"""

from __future__ import annotations

import keras


class EmaSwap(keras.callbacks.SwapEMAWeights):
    """``SwapEMAWeights`` that knows a resumed model holds the average."""

    def __init__(self, resumed: bool):
        super().__init__(swap_on_epoch=True)
        self.resumed = resumed

    def on_train_begin(self, logs=None):
        self._ema_weights_in_model = self.resumed

    @property
    def holds_average(self) -> bool:
        """Whether the model holds the averaged weights now (swapped in)."""
        return bool(self._ema_weights_in_model)

    def finalize(self) -> None:
        """Make the average final: the optimizer's raw slots get the averaged weights."""
        self._finalize_ema_values()
