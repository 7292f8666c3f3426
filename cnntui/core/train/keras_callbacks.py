"""Every Keras callback of a training run, in one module that imports Keras at the top.

Imported only when training starts (``TrainingSession.make_callbacks``), so nothing that
merely lists, prepares or follows runs pays for Keras.

- :class:`EventCallback` turns ``fit`` into ``begin``/``batch``/``epoch`` events (see
  ``events.py``). Per batch it only records the step and compares a clock; a ``batch``
  event goes out at most every ``throttle`` seconds. An epoch cut short by a stop request
  gets no ``epoch`` event.
- :class:`RunCheckpoint`, the atomic counterpart of ``ModelCheckpoint``: ``last.keras``
  every epoch, ``best.keras`` when the monitored value improves.
- :class:`NaNGuard`: a non-finite loss ends the run as ``failed`` with a reason for people.
- :class:`ResumableEarlyStopping`, :class:`ResumableReduceLROnPlateau`: Keras's
  callbacks forget their counters in ``on_train_begin``; these put back what
  ``state.json`` recorded, so a resumed run stops and lowers the learning rate exactly
  when the uninterrupted one would.
- :class:`TrainingCallbacks`: the callbacks of one run, by type, in ``fit``'s order.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from cnntui.core.atomic import atomic_save
from cnntui.core.runs import BEST, LAST, Run
from cnntui.core.train.checkpoint import save_model
from cnntui.core.train.events import EventLog, clean_logs
from cnntui.core.train.progress import Progress

SKIPPED_IN_EVENT = 20  # the full list is in the run's skipped.txt


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


class EventCallback(keras.callbacks.Callback):
    """Turn Keras training hooks into ``begin``/``batch``/``epoch`` events in ``log``."""

    def __init__(self, log: EventLog, progress: Progress, info: RunInfo, throttle: float = 0.1):
        super().__init__()
        self.log, self.progress, self.info = log, progress, info
        self.throttle = throttle
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
            initial_epoch=info.initial_epoch,
            steps_per_epoch=p.steps,
            batch_size=info.batch_size,
            samples=info.samples,
            params=info.params,
            skipped=len(info.skipped),
            skipped_files=info.skipped[:SKIPPED_IN_EVENT],
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
        rate = round(p.step * self.info.batch_size / elapsed, 1) if elapsed else None
        self.log.emit(
            "batch",
            epoch=p.epoch,
            step=p.step,
            steps=p.steps,
            logs=clean_logs(logs),
            images_per_sec=rate,
        )

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
        samples, batch_size = self.info.samples, self.info.batch_size
        train_images = min(samples, (p.steps or 0) * batch_size) or samples
        self.log.emit(
            "epoch",
            epoch=epoch + 1,
            epochs=epochs,
            logs=clean_logs(logs),
            seconds=round(seconds, 3),
            images_per_sec=round(train_images / seconds, 1) if seconds else None,
            eta_seconds=round(sum(recent) / len(recent) * (epochs - epoch - 1), 1),
        )


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
            last = self.run.path(LAST)  # same weights: a file copy, not a second save
            atomic_save(self.run.path(BEST), lambda tmp: shutil.copyfile(last, tmp))

    def saved_state(self) -> dict[str, Any]:
        """The best so far, as ``state.json`` keeps it."""
        best = self.best if math.isfinite(self.best) else None
        return {"best": best, "best_epoch": self.best_epoch, "monitor": self.monitor}


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """``TerminateOnNaN`` that records a reason for people instead of printing."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            kind = "NaN" if loss != loss else "infinite"
            self.progress.failure = (
                f"loss became {kind} in epoch {self.progress.epoch}, batch {batch + 1}; "
                "try a lower learning rate (--lr) or check the data"
            )
            self.model.stop_training = True


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

    def as_list(self) -> list[keras.callbacks.Callback]:
        """In ``fit``'s order: ``last.keras`` is saved before the ``epoch`` event."""
        optional = [self.early_stopping, self.reduce_lr]
        return [
            self.checkpoint,
            self.nan_guard,
            *(cb for cb in optional if cb is not None),
            *self.extra,
            self.events,
        ]

    def resume_state(self) -> dict[str, Any]:
        """What ``state.json`` keeps so that ``--resume`` continues exactly."""
        state = self.checkpoint.saved_state()
        if self.early_stopping is not None:
            state["early_stopping"] = self.early_stopping.saved_state()
        if self.reduce_lr is not None:
            state["reduce_lr"] = self.reduce_lr.saved_state()
        return state
