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


def ema_callbacks(resumed: bool, progress) -> tuple[object, object]:
    """(swap, finish): ``swap`` goes before the checkpoint callbacks, ``finish`` last."""
    from cnntui.core.train.keras_callbacks import EmaFinish, EmaSwap

    swap = EmaSwap(resumed)
    return swap, EmaFinish(swap, progress)
