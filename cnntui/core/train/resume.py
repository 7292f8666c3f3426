"""Making a run resumable: callback state saved per epoch and restored on ``--resume``.

Keras's ``EarlyStopping`` and ``ReduceLROnPlateau`` forget their counters in
``on_train_begin``; the subclasses here put back what ``state.json`` recorded, so a
resumed run stops and lowers the learning rate exactly when the uninterrupted one would.
The optimizer's state and the learning rate live in ``last.keras`` itself.
"""

from __future__ import annotations

import functools
from typing import Any

from cnntui.core.runs import BEST, HISTORY, LAST, Run
from cnntui.core.train.checkpoint import read_state, truncate_history


def resume_point(run: Run) -> int:
    """Completed epochs to resume after (0 when there is no usable ``last.keras``).

    Also drops ``history.csv`` rows of epochs that were not committed.
    """
    done = int(read_state(run).get("epochs_completed") or 0)
    if not run.path(LAST).exists():
        done = 0
    truncate_history(run.path(HISTORY), done)
    return done


def early_stopping(monitor: str, patience: int, state: dict[str, Any] | None, run: Run):
    """``EarlyStopping(restore_best_weights=True)`` that resumes its counters."""
    return _early_stopping_class()(
        monitor=monitor,
        patience=patience,
        restore_best_weights=True,
        verbose=0,
        saved=(state or {}).get("early_stopping"),
        best_path=run.path(BEST),
    )


def reduce_lr(monitor: str, patience: int, state: dict[str, Any] | None):
    """``ReduceLROnPlateau(factor=0.5)`` that resumes its counters."""
    return _reduce_lr_class()(
        monitor=monitor,
        factor=0.5,
        patience=patience,
        min_lr=1e-7,
        verbose=0,
        saved=(state or {}).get("reduce_lr"),
    )


def callback_state(callbacks: list[Any]) -> dict[str, Any]:
    """What ``state.json`` keeps of the resumable callbacks."""
    out: dict[str, Any] = {}
    for cb in callbacks:
        name = getattr(cb, "state_name", None)
        if name:
            out[name] = cb.saved_state()
    return out


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@functools.cache
def _early_stopping_class():
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        state_name = "early_stopping"

        def __init__(self, *args, saved=None, best_path=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.saved, self.best_path = saved, best_path
            self.stopped = False

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.saved and self.saved.get("best") is not None:
                self.wait = int(self.saved.get("wait", 0))
                self.best = float(self.saved["best"])
                if self.best_path is not None and self.best_path.exists():
                    best = keras.models.load_model(self.best_path, compile=False)
                    self.best_weights = best.get_weights()

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            self.stopped = self.stopped_epoch > 0

        def saved_state(self) -> dict[str, Any]:
            return {"wait": int(self.wait), "best": _num(self.best)}

    return ResumableEarlyStopping


@functools.cache
def _reduce_lr_class():
    import keras

    class ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
        state_name = "reduce_lr"

        def __init__(self, *args, saved=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.saved = saved

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.saved and self.saved.get("best") is not None:
                self.wait = int(self.saved.get("wait", 0))
                self.cooldown_counter = int(self.saved.get("cooldown_counter", 0))
                self.best = float(self.saved["best"])

        def saved_state(self) -> dict[str, Any]:
            return {
                "wait": int(self.wait),
                "best": _num(self.best),
                "cooldown_counter": int(self.cooldown_counter),
            }

    return ResumableReduceLROnPlateau
