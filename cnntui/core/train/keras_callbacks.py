"""Every Keras callback of a training run, in one module that imports Keras at the top.

Imported only when training starts (``TrainingSession.make_callbacks``), so nothing that
merely lists, prepares or follows runs pays for Keras.

- :class:`EventCallback` turns ``fit`` into ``begin``/``batch``/``epoch`` events (see
  ``events.py``). Per batch it only records the step and compares a clock; a ``batch``
  event goes out at most every ``throttle`` seconds. An epoch cut short by a stop request
  gets no ``epoch`` event, and its validation pass ends after one batch.
- :class:`RunCheckpoint`, the atomic counterpart of ``ModelCheckpoint``: ``last.keras``
  every epoch, ``best.keras`` when the monitored value improves (a hard link to that
  epoch's ``last.keras``: one save per epoch).
- :class:`NaNGuard`: a non-finite loss ends the run as ``failed`` with a reason for people.
- :class:`ResumableEarlyStopping`, :class:`ResumableReduceLROnPlateau`: Keras's
  callbacks forget their counters in ``on_train_begin``; these put back what
  ``state.json`` recorded, so a resumed run stops and lowers the learning rate exactly
  when the uninterrupted one would.
- :class:`TrainingCallbacks`: the callbacks of one run, by type, in ``fit``'s order.

Off TensorFlow, the per-batch hooks are ``async_safe``: Keras then runs them in its
callback threads and does not wait for each step's result before starting the next one
(JAX dispatches steps ahead; the host work of a step overlaps the one computing). They
take a lock, so their events and counters never go back when two run at once; Keras waits
for them all before any epoch-end hook. They never read ``self.model``: on JAX that
property copies the training state back into the model's variables, which in a callback
thread races the next step (it donates those buffers). TensorFlow, the reference, keeps
Keras's synchronous hooks.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from cnntui.core.atomic import atomic_copy
from cnntui.core.runs import BEST, LAST, Run
from cnntui.core.train.budget import epochs_left, format_duration
from cnntui.core.train.checkpoint import save_model
from cnntui.core.train.events import EventLog, clean_logs
from cnntui.core.train.progress import Progress

SKIPPED_IN_EVENT = 20  # the full list is in the run's skipped.txt
ASYNC_BATCH_HOOKS = keras.backend.backend() != "tensorflow"  # see the module's docstring


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate right now (schedules evaluated at this step)."""
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - an exotic optimizer must not stop training
        return None


@dataclass
class RunInfo:
    """What the ``begin`` event announces about the run."""

    run_id: str
    model_name: str
    batch_size: int
    samples: int
    initial_epoch: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # input size, recipe, class weights


class EventCallback(keras.callbacks.Callback):
    """Turn Keras training hooks into ``begin``/``batch``/``epoch`` events in ``log``."""

    async_safe = ASYNC_BATCH_HOOKS

    def __init__(self, log: EventLog, progress: Progress, info: RunInfo, throttle: float = 0.1):
        super().__init__()
        self.log, self.progress, self.info = log, progress, info
        self.throttle = throttle
        self._batch_lock = threading.Lock()
        self._started = 0  # steps the epoch has started (counted in the synchronous hook)
        self._epoch_seconds: list[float] = []
        self._epoch_start = self._last_emit = 0.0
        self._epoch_lr: float | None = None

    def on_train_begin(self, logs=None):
        p, info = self.progress, self.info
        p.steps = self.params.get("steps") or p.steps
        p.epochs_completed = info.initial_epoch
        if p.stop.is_set():
            self.model.stop_training = True
        self.log.emit(
            "begin",
            run_id=info.run_id,
            model=info.model_name,
            epochs=self.params.get("epochs"),
            **_estimated(self.params),
            initial_epoch=info.initial_epoch,
            steps_per_epoch=p.steps,
            batch_size=info.batch_size,
            samples=info.samples,
            params=info.params,
            skipped=len(info.skipped),
            skipped_files=info.skipped[:SKIPPED_IN_EVENT],
            **info.extra,
        )

    def on_epoch_begin(self, epoch, logs=None):
        p = self.progress
        p.epoch, p.step, p.partial_epoch = epoch + 1, 0, False
        self._started = 0
        self._epoch_lr = current_learning_rate(self.model)
        self._epoch_start = self._last_emit = time.monotonic()

    def on_train_batch_begin(self, batch, logs=None):
        self._started = batch + 1  # (Keras calls batch-begin hooks in order, before the step)

    def on_train_batch_end(self, batch, logs=None):
        p = self.progress
        with self._batch_lock:  # (hooks may run two at once, in any order: see above)
            if batch + 1 < p.step:
                return  # a later batch was already counted
            p.step = batch + 1
            now = time.monotonic()
            if p.stop.is_set():
                self._model.stop_training = True  # (self.model would sync JAX state)
            if now - self._last_emit < self.throttle:
                return
            self._last_emit = now
            elapsed = now - self._epoch_start
            rate = round(p.step * self.info.batch_size / elapsed, 1) if elapsed else None
            self.log.emit(
                "batch",
                epoch=p.epoch,
                step=p.step,
                steps=p.steps,
                logs=clean_logs(logs),
                images_per_sec=rate,
            )

    def on_test_batch_end(self, batch, logs=None):
        # a stopped epoch's validation is never recorded; whether the epoch was stopped is
        # told by the steps it started, which batch-end hooks still running may not have seen
        p = self.progress
        interrupted = p.stop.is_set() or bool(p.failure)
        if interrupted and p.steps and self._started < p.steps:
            self._model.stop_evaluating = True

    def on_epoch_end(self, epoch, logs=None):
        p = self.progress
        if p.cut_short():
            p.partial_epoch = True  # not a completed epoch: no event, no history row
            return
        seconds = time.monotonic() - self._epoch_start
        self._epoch_seconds.append(seconds)
        p.epochs_completed = epoch + 1
        logs = dict(logs or {})
        if "learning_rate" not in logs and self._epoch_lr is not None:
            logs["learning_rate"] = self._epoch_lr
        epochs = self.params.get("epochs") or epoch + 1
        recent = self._epoch_seconds[-3:]
        eta = sum(recent) / len(recent) * (epochs - epoch - 1)
        if self.params.get("budget_left") is not None:
            eta = min(eta, max(0.0, self.params["budget_left"]()))
        samples, batch_size = self.info.samples, self.info.batch_size
        train_images = min(samples, (p.steps or 0) * batch_size) or samples
        self.log.emit(
            "epoch",
            epoch=epoch + 1,
            epochs=epochs,
            **_estimated(self.params),
            logs=clean_logs(logs),
            seconds=round(seconds, 3),
            images_per_sec=round(train_images / seconds, 1) if seconds else None,
            eta_seconds=round(eta, 1),
        )
        if p.stop.is_set():  # asked between epochs: do not start another one
            self.model.stop_training = True


class RunCheckpoint(keras.callbacks.Callback):
    """Atomic ``last.keras`` every epoch, ``best.keras`` at the lowest ``monitor``.

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


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """``TerminateOnNaN`` that records a reason for people instead of printing (the first
    batch whose loss was not finite, however the hooks were ordered)."""

    async_safe = ASYNC_BATCH_HOOKS

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self._lock = threading.Lock()
        self._first_bad: tuple[int, int] | None = None  # (epoch, batch)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        with self._lock:
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


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping(restore_best_weights=True)`` that resumes its counters."""

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


class ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """``ReduceLROnPlateau(factor=0.5)`` that resumes its counters."""

    def __init__(self, monitor: str, patience: int, saved: dict[str, Any] | None = None):
        super().__init__(monitor=monitor, factor=0.5, patience=patience, min_lr=1e-7, verbose=0)
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


@dataclass
class TrainingCallbacks:
    """The callbacks of one run, by type. ``extra`` (TensorBoard, recipe callbacks) runs
    after the built-in ones and before ``events``, so an ``epoch`` event sees their work."""

    checkpoint: RunCheckpoint
    nan_guard: NaNGuard
    events: EventCallback
    early_stopping: ResumableEarlyStopping | None = None
    reduce_lr: ResumableReduceLROnPlateau | None = None
    extra: list[keras.callbacks.Callback] = field(default_factory=list)
    first: list[keras.callbacks.Callback] = field(default_factory=list)  # EMA weight swap
    last: list[keras.callbacks.Callback] = field(default_factory=list)  # EMA finish

    def as_list(self) -> list[keras.callbacks.Callback]:
        """In ``fit``'s order: ``last.keras`` is saved before the ``epoch`` event."""
        optional = [self.early_stopping, self.reduce_lr]
        return [
            *self.first,
            self.checkpoint,
            self.nan_guard,
            *(cb for cb in optional if cb is not None),
            *self.extra,
            self.events,
            *self.last,
        ]

    def resume_state(self) -> dict[str, Any]:
        """What ``state.json`` keeps so that ``--resume`` continues exactly."""
        state = self.checkpoint.saved_state()
        if self.early_stopping is not None:
            state["early_stopping"] = self.early_stopping.saved_state()
        if self.reduce_lr is not None:
            state["reduce_lr"] = self.reduce_lr.saved_state()
        return state


# -- the recipe's callbacks (see budget.py, ema.py, schedules.py) ---------------------


def _estimated(params: dict) -> dict[str, bool]:
    """``epochs_estimated: true`` in an event whose epoch total is the time budget's
    current projection (it changes after each epoch), else nothing."""
    return {"epochs_estimated": True} if params.get("epochs_estimated") else {}


class TimeBudget(keras.callbacks.Callback):
    """``--time``: project the epochs the budget allows after each epoch; stop when spent."""

    async_safe = ASYNC_BATCH_HOOKS  # its batch hook only starts the clock, once

    def __init__(self, budget, planned_epochs, steps_per_epoch, step_lr):
        super().__init__()
        self.budget, self.planned = budget, planned_epochs
        self.steps_per_epoch, self.step_lr = steps_per_epoch, step_lr
        self.epoch_started = 0.0
        self.durations: list[float] = []
        self.stopped = False
        self.stop_reason = ""
        self.used = 0.0

    def on_train_begin(self, logs=None):
        self.params["epochs"] = self.planned  # what events and the live view show
        self.params["epochs_estimated"] = True  # shown as "epoch 2/~72"
        self.params["budget_left"] = self.budget.left  # the ETA never exceeds what is left

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if self.budget.started is None:  # the traced first step is setup, not budget
            self.budget.start()
            self.epoch_started = self.budget.started

    def on_train_end(self, logs=None):
        self.used = self.budget.elapsed()

    def record(self) -> dict[str, float]:
        """What ``metrics.json`` keeps: the budget and the seconds training used."""
        return {"seconds": self.budget.seconds, "used_seconds": round(self.used, 3)}

    def on_epoch_end(self, epoch, logs=None):
        self.durations.append(time.monotonic() - self.epoch_started)
        more = epochs_left(self.budget.left(), self.durations)
        self.params["epochs"] = epoch + 1 + more
        if self.step_lr is not None and more:
            self.step_lr.refit((epoch + 1 + more) * self.steps_per_epoch)
        if more == 0:
            self.model.stop_training = True
            self.stopped = True
            self.stop_reason = (
                f"{format_duration(self.budget.seconds)} spent, less than half an epoch "
                f"left ({self.budget.elapsed():.1f}s of training)"
            )


class EmaSwap(keras.callbacks.SwapEMAWeights):
    """``SwapEMAWeights`` that knows a resumed model holds the average (see ema.py)."""

    def __init__(self, resumed: bool):
        super().__init__(swap_on_epoch=True)
        self.resumed = resumed

    def on_train_begin(self, logs=None):
        self._ema_weights_in_model = self.resumed


class EmaFinish(keras.callbacks.Callback):
    """Make the average final when a run ends early, except on a stop request."""

    def __init__(self, swap, progress):
        super().__init__()
        self.swap, self.progress = swap, progress

    def on_epoch_end(self, epoch, logs=None):
        last = epoch == self.params.get("epochs", 0) - 1
        ending = self.model.stop_training and not self.progress.stop.is_set()
        if ending and not last and self.swap._ema_weights_in_model:
            self.swap._finalize_ema_values()


class StepLR(keras.callbacks.Callback):
    """Set the LR of every step from a :class:`SchedulePlan` that may be refit."""

    def __init__(self, plan, initial_step):
        super().__init__()
        self.plan, self.step = plan, initial_step

    def on_train_begin(self, logs=None):
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self.plan.lr_at(self.step)
        self.step += 1

    def refit(self, total_steps: int) -> None:
        """Fit the curve to a new length from here on (warm-up unchanged)."""
        self.plan = dataclasses.replace(self.plan, total_steps=max(1, total_steps))
