"""Run one training: zoo model + data bundle + callbacks, recorded in a run directory.

``prepare_run`` validates the request and creates the run directory (``request.json``,
a first ``config.json``, status ``running``) without importing TensorFlow, so a caller
knows the run id at once. ``execute`` then trains in this process and records events,
checkpoints, history, metrics and the final status. ``train`` does both.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cnntui.core.atomic import atomic_write_json
from cnntui.core.runs import CONFIG, EVENTS, LAST, METRICS, REQUEST, Run, create_run
from cnntui.core.train.callback import Progress, event_callback
from cnntui.core.train.checkpoint import EpochRecorder, read_state, run_checkpoint
from cnntui.core.train.config import TrainConfig, hyperparameters
from cnntui.core.train.events import EventLog, JsonlSink, Sink
from cnntui.core.train.resume import callback_state, early_stopping, reduce_lr, resume_point


class TrainingFailed(RuntimeError):
    """Training stopped on an error; the run is marked ``failed`` with this reason."""


@dataclass
class TrainResult:
    """How a training session ended."""

    run: Run
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def run_id(self) -> str:
        return self.run.id


def versions() -> dict[str, str]:
    """Versions of cnntui, Keras, TensorFlow and Python (without importing TensorFlow)."""
    out = {"python": sys.version.split()[0]}
    for name in ("cnntui", "keras", "tensorflow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _entry(cfg: TrainConfig):
    from cnntui.core import registry

    registry.load_zoo(cfg.zoo)
    return registry.get_model(cfg.model)


def prepare_run(cfg: TrainConfig) -> Run:
    """Validate ``cfg``, create its run directory and record the request. No TensorFlow."""
    cfg.validate()
    if cfg.data and Path(cfg.data).expanduser().exists():
        cfg.data = str(Path(cfg.data).expanduser().resolve())
    cfg.zoo = [str(Path(z).expanduser().resolve()) for z in cfg.zoo]
    from cnntui.core.data.sources import classify_source

    classify_source(cfg.data)  # a typo fails here, before a run directory exists
    entry = _entry(cfg)
    hp = hyperparameters(cfg, entry)
    run = create_run(entry.name, cfg.name, cfg.runs_dir)
    atomic_write_json(run.path(REQUEST), cfg.to_dict())
    atomic_write_json(
        run.path(CONFIG),
        {
            "run_id": run.id,
            "model": entry.name,
            "title": entry.title,
            "source_file": entry.source_file,
            "model_source": entry.file_source(),
            "hyperparameters": hp,
            "data": {"source": cfg.data or "sample"},
            "input_shape": list(cfg.input_shape or entry.input_shape),
            "num_classes": None,
            "seed": cfg.seed,
            "created": time.time(),
            "versions": versions(),
            "argv": list(cfg.argv),
        },
    )
    run.set_status("running")
    return run


def prepare_resume(run: Run, epochs: int | None = None) -> Run:
    """Check ``run`` can be resumed (optionally with more ``epochs``) and mark it running."""
    info = run.status_info
    status = run.status
    if status == "running":
        raise ValueError(
            f"run {run.id} is still running (pid {info.get('pid')}); stop it first "
            f"(Ctrl+C, or `kill {info.get('pid')}`)"
        )
    request = run.read_json(REQUEST)
    if not request:
        raise ValueError(f"run {run.id} has no {REQUEST}; it was not made by `cnntui train`")
    cfg = TrainConfig.from_dict(request)
    if epochs is not None:
        cfg.epochs = epochs
        cfg.validate()
        atomic_write_json(run.path(REQUEST), cfg.to_dict())
    total = cfg.epochs or run.config.get("hyperparameters", {}).get("epochs")
    done = int(read_state(run).get("epochs_completed") or 0)
    if total and done >= int(total):
        raise ValueError(
            f"run {run.id} already completed {done} of {total} epochs; "
            f"pass --epochs N (more than {done}) to train it further"
        )
    run.set_status("running", resumed=time.time())
    return run


def train(
    cfg: TrainConfig, sinks: list[Sink] | None = None, stop: threading.Event | None = None
) -> TrainResult:
    """Create a run for ``cfg`` and train it here; returns how it ended."""
    return execute(prepare_run(cfg), sinks=sinks, stop=stop)


def resume(
    ref: str,
    sinks: list[Sink] | None = None,
    epochs: int | None = None,
    runs_dir: str | None = None,
    stop: threading.Event | None = None,
) -> TrainResult:
    """Continue run ``ref`` from its last completed epoch."""
    from cnntui.core.runs import resolve_run

    run = prepare_resume(resolve_run(ref, runs_dir), epochs)
    return execute(run, sinks=sinks, stop=stop)


@contextmanager
def _stop_on_signals(progress: Progress, model_ref: list[Any]):
    """SIGINT/SIGTERM stop after the current batch; a second SIGINT aborts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if signum == signal.SIGINT and progress.stop.is_set():
            raise KeyboardInterrupt
        reason = "interrupted by user" if signum == signal.SIGINT else "terminated (SIGTERM)"
        progress.request_stop(reason)
        if model_ref:
            model_ref[0].stop_training = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _optimizer(name: str, learning_rate: float, hp_entry):
    import keras

    momentum = getattr(hp_entry, "momentum", None)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum or 0.0)
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[name](learning_rate=learning_rate)


def _reencode(dataset, label_mode: str, num_classes: int):
    """Map int labels of a batched dataset to ``binary`` or ``categorical``."""
    if dataset is None or label_mode == "int":
        return dataset
    import tensorflow as tf

    if label_mode == "binary":
        return dataset.map(lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32), (-1, 1))))
    return dataset.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), num_classes)))


class _Collector:
    """Keeps what ``metrics.json`` needs from the events (tiny, bounded)."""

    def __init__(self) -> None:
        self.last_logs: dict[str, Any] = {}
        self.rates: list[float] = []
        self.epochs = 0

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") == "epoch":
            self.last_logs = event.get("logs") or {}
            self.epochs += 1
            if event.get("images_per_sec"):
                self.rates.append(float(event["images_per_sec"]))

    def close(self) -> None:
        pass


def _nan_guard(progress: Progress):
    import keras

    class NaNGuard(keras.callbacks.TerminateOnNaN):
        """``TerminateOnNaN`` that records a reason for people instead of printing."""

        def on_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                progress.failure = (
                    f"loss became {'NaN' if loss != loss else 'infinite'} in epoch "
                    f"{progress.epoch}, batch {batch + 1}; try a lower learning rate (--lr) "
                    "or check the data"
                )
                self.model.stop_training = True

    return NaNGuard()


def execute(
    run: Run, sinks: list[Sink] | None = None, stop: threading.Event | None = None
) -> TrainResult:
    """Train the run prepared in ``run`` (fresh or resumed) in this process."""
    cfg = TrainConfig.from_dict(run.read_json(REQUEST))
    progress = Progress(stop=stop or threading.Event())
    state = read_state(run)
    initial_epoch = resume_point(run)
    collector = _Collector()
    log = EventLog([JsonlSink(run.path(EVENTS)), *(sinks or []), collector])
    model_ref: list[Any] = []
    callbacks: list[Any] = []
    recorder = EpochRecorder(run, lambda: {**callback_state(callbacks), **_best(callbacks)})
    log.sinks.insert(1, recorder)
    started = time.monotonic()
    run.set_status("running")
    try:
        with _stop_on_signals(progress, model_ref):
            result = _fit(run, cfg, log, progress, state, initial_epoch, model_ref, callbacks)
    except KeyboardInterrupt:
        result = TrainResult(run, "stopped", reason="interrupted by user (forced)")
    except Exception as exc:  # noqa: BLE001 - recorded for the TUI, then re-raised
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.emit("failed", reason=reason[:500], error=type(exc).__name__)
        run.set_status("failed", reason=reason[:500])
        log.close()
        raise
    wall = time.monotonic() - started
    metrics = _metrics(run, collector, callbacks, wall, state, result, progress)
    atomic_write_json(run.path(METRICS), metrics)
    result.metrics = metrics
    if result.status == "finished":
        log.emit("done", metrics=metrics, reason=result.reason or "completed")
    elif result.status == "stopped":
        log.emit("stopped", reason=result.reason, epoch=progress.epochs_completed)
    else:
        log.emit("failed", reason=result.reason, error="NaNLoss")
    run.set_status(result.status, reason=result.reason)
    log.close()
    return result


def _best(callbacks: list[Any]) -> dict[str, Any]:
    for cb in callbacks:
        if hasattr(cb, "best_epoch") and hasattr(cb, "monitor") and hasattr(cb, "progress"):
            best = cb.best if math.isfinite(cb.best) else None
            return {"best": best, "best_epoch": cb.best_epoch, "monitor": cb.monitor}
    return {}


def _fit(run, cfg, log, progress, state, initial_epoch, model_ref, callbacks) -> TrainResult:
    from cnntui.core.data import load_data
    from cnntui.core.data.cache import cache_line
    from cnntui.core.data.late_skips import late_skip_callback, skipped_text
    from cnntui.core.heads import label_mode_for, loss_for, output_units
    from cnntui.core.runs import SKIPPED as SKIPPED_TXT
    from cnntui.core.train import strategy as strat

    strategy = strat.make_strategy(cfg.strategy)
    import keras

    policy = strat.set_precision(cfg.mixed_precision)
    try:
        entry = _entry(cfg)
        hp = hyperparameters(cfg, entry)
        keras.utils.set_random_seed(cfg.seed + initial_epoch)
        input_shape = tuple(cfg.input_shape or entry.input_shape)
        bundle = load_data(
            cfg.data,
            input_shape=input_shape,
            label_mode="int",
            batch_size=hp["batch_size"],
            val_split=cfg.val_split,
            seed=cfg.seed,
            limit=cfg.limit,
            augment=cfg.augment or None,
            resize_mode=cfg.resize_mode,
        )
        resuming = initial_epoch > 0
        with strategy.scope():
            if resuming:
                model = keras.models.load_model(run.path(LAST))
            else:
                model = entry.build(bundle.input_shape, bundle.num_classes)
            units = output_units(model)
            loss = loss_for(hp["loss"], units)
            if not resuming:
                model.compile(
                    optimizer=_optimizer(
                        hp["optimizer"], hp["learning_rate"], entry.hyperparameters
                    ),
                    loss=loss,
                    metrics=hp["metrics"],
                    jit_compile=cfg.jit_compile,
                )
        label_mode = label_mode_for(loss, units)
        if label_mode == "binary" and bundle.num_classes != 2:
            raise ValueError(
                f"{entry.name} has a one-unit sigmoid head (two classes) but the data has "
                f"{bundle.num_classes} classes; pick a multi-class entry or two-class data"
            )
        train_ds = _reencode(bundle.train, label_mode, bundle.num_classes)
        val_ds = _reencode(bundle.val, label_mode, bundle.num_classes)
        bundle.label_mode = label_mode
        hp["loss"] = loss
        config = {
            **run.config,
            "hyperparameters": hp,
            "data": bundle.to_config(),
            "input_shape": list(bundle.input_shape),
            "num_classes": bundle.num_classes,
            "output_units": units,
            "params": int(model.count_params()),
            "dtype_policy": policy,
            "strategy": strat.describe(strategy),
        }
        atomic_write_json(run.path(CONFIG), config)
        if bundle.skipped:
            from cnntui.core.atomic import atomic_write_text
            from cnntui.core.runs import SKIPPED

            atomic_write_text(
                run.path(SKIPPED),
                skipped_text(bundle.skipped),
            )

        monitor = "val_loss" if val_ds is not None else "loss"
        samples = int(bundle.counts.get("train", 0))
        steps = math.ceil(samples / hp["batch_size"]) if samples else None
        progress.steps = steps
        ckpt = run_checkpoint(run, progress, monitor=monitor, best=state.get("best"))
        ckpt.best_epoch = state.get("best_epoch")
        callbacks += [ckpt, _nan_guard(progress)]
        stopper = None
        if cfg.patience:
            stopper = early_stopping(monitor, cfg.patience, state, run)
            callbacks.append(stopper)
        if cfg.reduce_lr:
            callbacks.append(reduce_lr(monitor, max(1, cfg.patience // 2 or 2), state))
        if cfg.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run.path("tensorboard"))))
        callbacks.append(
            event_callback(
                log,
                progress,
                run_id=run.id,
                model_name=entry.name,
                batch_size=hp["batch_size"],
                samples=samples,
                initial_epoch=initial_epoch,
                params=dict(hp),
                skipped=bundle.skipped,
                data_cache=cache_line(bundle.cache) if bundle.kind == "folder" else None,
            )
        )
        callbacks.append(late_skip_callback(bundle, log, run.path(SKIPPED_TXT)))  # data: epoch 1
        model_ref.append(model)
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=hp["epochs"],
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
    finally:
        strat.set_precision(False)
    test_ds = _reencode(bundle.test, label_mode, bundle.num_classes)
    if progress.failure:
        return TrainResult(run, "failed", reason=progress.failure)
    if progress.stop.is_set():
        return TrainResult(run, "stopped", reason=progress.stop_reason or "stopped")
    if test_ds is not None:
        values = model.evaluate(test_ds, verbose=0, return_dict=True)
        progress.test_metrics = {k: float(v) for k, v in values.items()}
    if stopper is not None and stopper.stopped:
        return TrainResult(
            run,
            "finished",
            reason=(
                f"early stopping: {monitor} did not improve for {cfg.patience} epochs; "
                f"best weights restored"
            ),
        )
    return TrainResult(run, "finished", reason="completed")


def _metrics(run, collector, callbacks, wall, state, result, progress) -> dict[str, Any]:
    best = _best(callbacks)
    previous = run.metrics if state else {}
    logs = collector.last_logs
    history = _history_best(run)
    metrics: dict[str, Any] = {
        "status": result.status,
        "reason": result.reason,
        "epochs_completed": int(read_state(run).get("epochs_completed") or 0),
        "best_epoch": best.get("best_epoch"),
        "monitor": best.get("monitor"),
        "best_val_loss": history.get("val_loss"),
        "best_val_accuracy": history.get("val_accuracy"),
        "final": logs or previous.get("final", {}),
        "wall_seconds": round(wall + float(previous.get("wall_seconds") or 0), 3),
        "images_per_sec": round(sum(collector.rates) / len(collector.rates), 1)
        if collector.rates
        else previous.get("images_per_sec"),
    }
    if progress.test_metrics:
        metrics["test"] = progress.test_metrics
    return metrics


def _history_best(run: Run) -> dict[str, float | None]:
    """val_loss and val_accuracy of the epoch with the lowest val_loss in ``history.csv``."""
    import csv

    from cnntui.core.runs import HISTORY

    best: dict[str, float | None] = {}
    try:
        with open(run.path(HISTORY), newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return best
    scored = []
    for row in rows:
        try:
            scored.append((float(row["val_loss"]), row))
        except (KeyError, TypeError, ValueError):
            continue
    scored = [s for s in scored if math.isfinite(s[0])]
    if scored:
        loss, row = min(scored, key=lambda s: s[0])
        best["val_loss"] = loss
        try:
            best["val_accuracy"] = float(row.get("val_accuracy"))
        except (TypeError, ValueError):
            best["val_accuracy"] = None
    return best
