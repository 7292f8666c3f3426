"""The one Keras callback that turns ``fit`` into events (see ``events.py``).

Per batch it only records the step and compares a clock; a ``batch`` event (with the
logs converted to floats) goes out at most every ``throttle`` seconds. Epoch ends always
produce an ``epoch`` event, except an epoch cut short by a stop request.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cnntui.core.train.events import EventLog, clean_logs


@dataclass
class Progress:
    """Where training is; shared by the callbacks of one run."""

    epoch: int = 0  # 1-based epoch in progress (or just ended)
    step: int = 0  # batches done in this epoch
    steps: int | None = None
    epochs_completed: int = 0
    partial_epoch: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = ""
    failure: str = ""  # set when training must end as failed (NaN loss)
    test_metrics: dict[str, float] = field(default_factory=dict)

    def cut_short(self) -> bool:
        """The epoch ending now was interrupted (stop request or failure) before its end."""
        interrupted = self.stop.is_set() or bool(self.failure)
        return bool(interrupted and self.steps and self.step < self.steps)

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()


def current_learning_rate(model) -> float | None:
    """The optimizer's learning rate right now (schedules evaluated at this step)."""
    try:
        import keras

        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - an exotic optimizer must not stop training
        return None


def event_callback(
    log: EventLog,
    progress: Progress,
    *,
    run_id: str,
    model_name: str,
    batch_size: int,
    samples: int,
    initial_epoch: int = 0,
    params: dict[str, Any] | None = None,
    throttle: float = 0.1,
    skipped: list[dict[str, str]] | None = None,
    data_cache: str | None = None,
):
    """A ``keras.callbacks.Callback`` emitting this run's events into ``log``.

    ``skipped``: unreadable files the data check pass left out, announced in ``begin``;
    ``data_cache``: the line saying whether the decoded-image cache was used (``begin``).
    """
    return _event_callback_class()(
        log,
        progress,
        run_id=run_id,
        model_name=model_name,
        batch_size=batch_size,
        samples=samples,
        initial_epoch=initial_epoch,
        params=params or {},
        throttle=throttle,
        skipped=skipped or [],
        data_cache=data_cache,
    )


SKIPPED_IN_EVENT = 20  # the full list is in the run's skipped.txt


@functools.cache
def _event_callback_class():
    import keras

    class EventCallback(keras.callbacks.Callback):
        """Turn Keras training hooks into ``begin``/``batch``/``epoch`` events."""

        def __init__(
            self,
            log,
            progress,
            *,
            run_id,
            model_name,
            batch_size,
            samples,
            initial_epoch,
            params,
            throttle,
            skipped,
            data_cache,
        ):
            super().__init__()
            self.skipped, self.data_cache = skipped, data_cache
            self.log, self.progress = log, progress
            self.run_id, self.model_name = run_id, model_name
            self.batch_size, self.samples = batch_size, samples
            self.initial_epoch, self.run_params = initial_epoch, params
            self.throttle = throttle
            self._epoch_seconds: list[float] = []
            self._epoch_start = self._last_emit = 0.0
            self._epoch_lr: float | None = None

        def on_train_begin(self, logs=None):
            p = self.progress
            p.steps = self.params.get("steps") or p.steps
            p.epochs_completed = self.initial_epoch
            if p.stop.is_set():
                self.model.stop_training = True
            self.log.emit(
                "begin",
                run_id=self.run_id,
                model=self.model_name,
                epochs=self.params.get("epochs"),
                initial_epoch=self.initial_epoch,
                steps_per_epoch=p.steps,
                batch_size=self.batch_size,
                samples=self.samples,
                params=self.run_params,
                skipped=len(self.skipped),
                skipped_files=self.skipped[:SKIPPED_IN_EVENT],
                **({"data_cache": self.data_cache} if self.data_cache else {}),
            )

        def on_epoch_begin(self, epoch, logs=None):
            p = self.progress
            p.epoch, p.step, p.partial_epoch = epoch + 1, 0, False
            self._epoch_lr = current_learning_rate(self.model)
            self._epoch_start = self._last_emit = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            p = self.progress
            p.step = batch + 1
            now = time.monotonic()
            if p.stop.is_set():
                self.model.stop_training = True
            if now - self._last_emit < self.throttle:
                return
            self._last_emit = now
            elapsed = now - self._epoch_start
            self.log.emit(
                "batch",
                epoch=p.epoch,
                step=p.step,
                steps=p.steps,
                logs=clean_logs(logs),
                images_per_sec=round(p.step * self.batch_size / elapsed, 1) if elapsed else None,
            )

        def on_epoch_end(self, epoch, logs=None):
            p = self.progress
            now = time.monotonic()
            if p.cut_short():
                p.partial_epoch = True  # not a completed epoch: no event, no history row
                return
            seconds = now - self._epoch_start
            self._epoch_seconds.append(seconds)
            p.epochs_completed = epoch + 1
            logs = dict(logs or {})
            if "learning_rate" not in logs and self._epoch_lr is not None:
                logs["learning_rate"] = self._epoch_lr
            epochs = self.params.get("epochs") or epoch + 1
            recent = self._epoch_seconds[-3:]
            train_images = min(self.samples, (p.steps or 0) * self.batch_size) or self.samples
            self.log.emit(
                "epoch",
                epoch=epoch + 1,
                epochs=epochs,
                logs=clean_logs(logs),
                seconds=round(seconds, 3),
                images_per_sec=round(train_images / seconds, 1) if seconds else None,
                eta_seconds=round(sum(recent) / len(recent) * (epochs - epoch - 1), 1),
            )

    return EventCallback
