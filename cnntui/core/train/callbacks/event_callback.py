"""``begin``/``batch``/``epoch`` events from ``fit``'s hooks (see ``events.py``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import keras

from cnntui.core.train.callbacks.base import AsyncBatchHooks, current_learning_rate
from cnntui.core.train.events import EventLog, clean_logs
from cnntui.core.train.progress import Progress

SKIPPED_IN_EVENT = 20  # the full list is in the run's skipped.txt


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


def epochs_estimated(params: dict) -> dict[str, bool]:
    """``epochs_estimated: true`` in an event whose epoch total is the time budget's
    current projection (it changes after each epoch), else nothing."""
    return {"epochs_estimated": True} if params.get("epochs_estimated") else {}


class EventCallback(AsyncBatchHooks, keras.callbacks.Callback):
    """Turn Keras training hooks into ``begin``/``batch``/``epoch`` events in ``log``.

    Per batch it only records the step and compares a clock; a ``batch`` event goes out
    at most every ``throttle`` seconds. An epoch cut short by a stop request gets no
    ``epoch`` event, and its validation pass ends after one batch.
    """

    def __init__(
        self,
        log: EventLog,
        progress: Progress,
        info: RunInfo,
        throttle: float = 0.1,
        per_step_lr: bool = False,
    ):
        super().__init__()
        self.log, self.progress, self.info = log, progress, info
        self.throttle = throttle
        self.per_step_lr = per_step_lr  # a callback sets the LR each step (--time)
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
            **epochs_estimated(self.params),
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
        with self.batch_lock:  # (hooks may run two at once, in any order: see base.py)
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

    def last_step_rate(self) -> float | None:
        """The rate the epoch's last step used: a Keras schedule at that step, else the
        per-step rate as it stands, else the epoch's (constant through it: a plateau lowers
        it only after the epoch, and must not be read as this epoch's)."""
        optimizer = self.model.optimizer
        schedule = getattr(optimizer, "_learning_rate", None)
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            step = max(0, int(keras.ops.convert_to_numpy(optimizer.iterations)) - 1)
            return float(keras.ops.convert_to_numpy(schedule(step)))
        if self.per_step_lr:
            return current_learning_rate(self.model)
        return self._epoch_lr

    def on_epoch_end(self, epoch, logs=None):
        p = self.progress
        if p.cut_short():
            p.partial_epoch = True  # not a completed epoch: no event, no history row
            return
        seconds = time.monotonic() - self._epoch_start
        self._epoch_seconds.append(seconds)
        p.epochs_completed = epoch + 1
        logs = dict(logs or {})
        last = self.last_step_rate()
        if last is not None:  # the rate the epoch ended at; the one it began at, named so
            logs["learning_rate"] = last
        if self._epoch_lr is not None:
            logs["learning_rate_start"] = self._epoch_lr
        epochs = self.params.get("epochs") or epoch + 1
        samples, batch_size = self.info.samples, self.info.batch_size
        train_images = min(samples, (p.steps or 0) * batch_size) or samples
        self.log.emit(
            "epoch",
            epoch=epoch + 1,
            epochs=epochs,
            **epochs_estimated(self.params),
            logs=clean_logs(logs),
            seconds=round(seconds, 3),
            images_per_sec=round(train_images / seconds, 1) if seconds else None,
            eta_seconds=round(self._eta(epoch, epochs), 1),
        )
        if p.stop.is_set():  # asked between epochs: do not start another one
            self.model.stop_training = True

    def _eta(self, epoch: int, epochs: int) -> float:
        """Seconds left at the mean of the last three epochs (never more than a time
        budget has left)."""
        recent = self._epoch_seconds[-3:]
        eta = sum(recent) / len(recent) * (epochs - epoch - 1)
        if self.params.get("budget_left") is not None:
            eta = min(eta, max(0.0, self.params["budget_left"]()))
        return eta
