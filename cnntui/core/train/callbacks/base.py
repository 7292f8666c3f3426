"""What the run's callbacks share: how their batch hooks run, resumable counters.

Off TensorFlow, the per-batch hooks of :class:`AsyncBatchHooks` callbacks are
``async_safe``: Keras then runs them in its callback threads and does not wait for each
step's result before starting the next one (JAX dispatches steps ahead; the host work of
a step overlaps the one computing). They take ``batch_lock``, so their events and
counters never go back when two run at once; Keras waits for them all before any
epoch-end hook. They never read ``self.model``: on JAX that property copies the training
state back into the model's variables, which in a callback thread races the next step (it
donates those buffers), so they use ``self._model`` (Keras's attribute behind it).
TensorFlow, the reference, keeps Keras's synchronous hooks.
"""

from __future__ import annotations

import threading
from typing import Any

import keras

ASYNC_BATCH_HOOKS = keras.backend.backend() != "tensorflow"  # see the module's docstring


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate right now (schedules evaluated at this step)."""
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - an exotic optimizer must not stop training
        return None


def as_float(value: Any) -> float | None:
    """``value`` as a float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class AsyncBatchHooks:
    """Mixin (before the Keras callback class): batch hooks Keras may run in its threads,
    two at once and in any order, serialised by ``batch_lock``."""

    async_safe = ASYNC_BATCH_HOOKS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_lock = threading.Lock()


class ResumableCounters:
    """Mixin (before a Keras ``EarlyStopping``/``ReduceLROnPlateau``): Keras resets the
    counters in ``on_train_begin``; this puts back what ``state.json`` recorded, so a
    resumed run acts exactly when the uninterrupted one would.

    ``COUNTERS`` names the integer counters beside ``best``; :meth:`restored` runs after
    they are put back (for more than counters).
    """

    COUNTERS: tuple[str, ...] = ("wait",)
    saved: dict[str, Any] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)  # type: ignore[misc]
        if self.saved and self.saved.get("best") is not None:
            for name in self.COUNTERS:
                setattr(self, name, int(self.saved.get(name, 0)))
            self.best = float(self.saved["best"])
            self.restored()

    def restored(self) -> None:
        """Called once the saved counters are back (nothing by default)."""

    def saved_state(self) -> dict[str, Any]:
        """The counters and the best value, as ``state.json`` keeps them."""
        state: dict[str, Any] = {"wait": int(self.wait), "best": as_float(self.best)}
        state.update({name: int(getattr(self, name)) for name in self.COUNTERS})
        return state
