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

LR_FIND = "lr_find.json"  # the sweep of ``--lr auto``


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
    from cnntui.core.data.sources import classify_source
    from cnntui.core.heads import loss_for, output_units
    from cnntui.core.train import recipe as rcp
    from cnntui.core.train import strategy as strat
    from cnntui.core.train.batch_augment import BatchAugment
    from cnntui.core.train.batch_augment import apply as augment_batches
    from cnntui.core.train.input_size import choose_input
    from cnntui.core.train.schedules import SchedulePlan

    strategy = strat.make_strategy(cfg.strategy)
    import keras

    policy = strat.set_precision(cfg.mixed_precision)
    started = time.monotonic()
    try:
        entry = _entry(cfg)
        hp = hyperparameters(cfg, entry)
        resuming = initial_epoch > 0
        if resuming:  # exactly what the first session chose (and fitted, with --time)
            recorded_hp = run.config.get("hyperparameters") or {}
            hp.update({k: recorded_hp[k] for k in _RECORDED if k in recorded_hp})
            hp["epochs"] = int(cfg.epochs or recorded_hp.get("epochs") or hp["epochs"])
        keras.utils.set_random_seed(cfg.seed + initial_epoch)
        src = classify_source(cfg.data)
        recorded = run.config.get("input_choice") if resuming else None
        choice = choose_input(
            entry,
            src.kind,
            str(src.path) if src.path else None,
            recorded["shape"] if recorded else cfg.input_shape,
            cfg.builder_args,
            cfg.seed,
        )
        if recorded:
            choice = type(choice)(choice.shape, recorded.get("reason", choice.reason))
        bundle = load_data(
            cfg.data,
            input_shape=choice.shape,
            label_mode="int",
            batch_size=hp["batch_size"],
            val_split=cfg.val_split,
            seed=cfg.seed,
            limit=cfg.limit,
            augment=cfg.augment or None,
            resize_mode=cfg.resize_mode,
        )
        samples = int(bundle.counts.get("train", 0))
        steps = math.ceil(samples / hp["batch_size"]) if samples else 1
        mixing = BatchAugment(
            mixup=hp["mixup"],
            cutmix=hp["cutmix"],
            randaugment=tuple(hp["randaugment"]) if hp["randaugment"] else None,
            random_erasing=hp["random_erasing"],
        )

        def build_compiled(learning_rate, total_steps=0):
            model = entry.build(bundle.input_shape, bundle.num_classes, **cfg.builder_args)
            units = output_units(model)
            if mixing.soft_labels and units == 1:
                raise ValueError(
                    f"--mixup/--cutmix need a softmax head; {entry.name} built a one-unit "
                    "sigmoid head; drop them or pick a multi-class entry"
                )
            loss, mode = rcp.make_loss(
                loss_for(hp["loss"], units), units, hp["label_smoothing"], mixing.soft_labels
            )
            model.compile(
                optimizer=rcp.make_optimizer(
                    hp,
                    learning_rate,
                    getattr(entry.hyperparameters, "momentum", None),
                    total_steps,
                ),
                loss=loss,
                metrics=hp["metrics"],
                jit_compile=cfg.jit_compile,
            )
            return model, units, loss, mode

        def plan_for(epochs: int) -> SchedulePlan:
            return SchedulePlan(
                hp["schedule"],
                hp["learning_rate"],
                total_steps=epochs * steps,
                warmup_steps=rcp.steps_for(hp["warmup"], steps),
            )

        with strategy.scope():
            if hp["lr_auto"] and not resuming:
                hp["lr_find"] = _auto_lr(run, build_compiled, bundle, mixing, steps)
                hp["learning_rate"] = hp["lr_find"]["suggestion"]
            plan = plan_for(hp["epochs"])
            if resuming:
                model = keras.models.load_model(run.path(LAST))
                units = output_units(model)
                loss, label_mode = rcp.make_loss(
                    loss_for(hp["loss"], units), units, hp["label_smoothing"], mixing.soft_labels
                )
                if not isinstance(plan.keras(), float):  # the same curve, step for step
                    model.optimizer.learning_rate = plan.keras()
            else:
                model, units, loss, label_mode = build_compiled(plan.keras(), plan.total_steps)
        if label_mode == "binary" and bundle.num_classes != 2:
            raise ValueError(
                f"{entry.name} has a one-unit sigmoid head (two classes) but the data has "
                f"{bundle.num_classes} classes; pick a multi-class entry or two-class data"
            )
        train_ds = _reencode(bundle.train, label_mode, bundle.num_classes)
        val_ds = _reencode(bundle.val, label_mode, bundle.num_classes)
        train_ds = augment_batches(train_ds, mixing, bundle.num_classes, cfg.seed + initial_epoch)
        bundle.label_mode = label_mode
        hp["loss"] = loss if isinstance(loss, str) else _loss_name(loss)
        class_weight = _class_weight(hp, bundle)
        budget = None
        if hp["time_budget_s"] and not resuming:
            from cnntui.core.train.budget import Budget, epochs_for, probe_epoch_seconds

            budget = Budget(hp["time_budget_s"], started)
            val_steps = math.ceil(int(bundle.counts.get("val", 0)) / hp["batch_size"])
            epoch_s = probe_epoch_seconds(model, train_ds, val_ds, steps, val_steps)
            fitted = epochs_for(budget.left(), epoch_s, budget.seconds)
            hp["epochs"] = min(fitted, cfg.epochs) if cfg.epochs else fitted
            hp["epoch_seconds_estimate"] = round(epoch_s, 2)
            if hp["warmup"] and rcp.steps_for(hp["warmup"], steps) >= hp["epochs"] * steps:
                hp["warmup"] = round(hp["epochs"] * 0.1, 3)
            plan = plan_for(hp["epochs"])
            if not isinstance(plan.keras(), float):
                model.optimizer.learning_rate = plan.keras()
            if hp["ema"]:
                model.optimizer.ema_momentum = rcp.ema_momentum(plan.total_steps)
            model.train_function = None  # retrace with the fitted schedule and EMA
            request = cfg.to_dict()
            request["epochs"] = hp["epochs"]  # --resume continues the fitted run
            atomic_write_json(run.path(REQUEST), request)
        hp["lr_schedule"] = plan.to_dict()
        if hp["ema"]:
            hp["ema_momentum"] = float(model.optimizer.ema_momentum)
        config = {
            **run.config,
            "hyperparameters": hp,
            "data": bundle.to_config(),
            "input_shape": list(bundle.input_shape),
            "input_choice": choice.to_dict(),
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
                "".join(f"{s.get('path')}\t{s.get('reason')}\n" for s in bundle.skipped),
            )

        monitor = "val_loss" if val_ds is not None else "loss"
        progress.steps = steps
        ckpt = run_checkpoint(run, progress, monitor=monitor, best=state.get("best"))
        ckpt.best_epoch = state.get("best_epoch")
        ema_finish = None
        if hp["ema"]:
            from cnntui.core.train.ema import ema_callbacks

            ema_swap, ema_finish = ema_callbacks(resuming, progress)
            callbacks.append(ema_swap)
        callbacks += [ckpt, _nan_guard(progress)]
        stopper = None
        if cfg.patience:
            stopper = early_stopping(monitor, cfg.patience, state, run)
            callbacks.append(stopper)
        if cfg.reduce_lr or hp["schedule"] == "plateau":
            callbacks.append(reduce_lr(monitor, max(1, cfg.patience // 2 or 2), state))
        if cfg.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run.path("tensorboard"))))
        timer = None
        if budget is not None:
            from cnntui.core.train.budget import budget_callback

            timer = budget_callback(budget, progress)
            callbacks.append(timer)
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
                extra={
                    "input": choice.to_dict(),
                    "recipe": rcp.summary(hp),
                    "class_weight": hp.get("class_weights"),
                },
            )
        )
        if ema_finish is not None:
            callbacks.append(ema_finish)
        model_ref.append(model)
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=hp["epochs"],
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
            class_weight=class_weight,
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
    if timer is not None and timer.stopped:
        return TrainResult(run, "finished", reason="time budget: the next epoch would overrun it")
    return TrainResult(run, "finished", reason="completed")


_RECORDED = ("learning_rate", "lr_find", "warmup", "epoch_seconds_estimate")


def _loss_name(loss) -> str:
    """The Keras name of a loss object made by the recipe (for the run's record)."""
    return {
        "CategoricalCrossentropy": "categorical_crossentropy",
        "BinaryCrossentropy": "binary_crossentropy",
    }.get(type(loss).__name__, type(loss).__name__)


def _class_weight(hp: dict[str, Any], bundle) -> dict[int, float] | None:
    from cnntui.core.train.class_weights import resolve_class_weight, train_class_counts

    if not hp.get("class_weight"):
        return None
    counts = train_class_counts(bundle)
    weights = resolve_class_weight(hp["class_weight"], counts, bundle.class_names)
    hp["class_weights"] = {bundle.class_names[i]: round(w, 6) for i, w in weights.items()}
    return weights


def _auto_lr(run, build_compiled, bundle, mixing, steps) -> dict[str, Any]:
    """``--lr auto``: sweep a throwaway copy of the model; record the sweep in the run."""
    from cnntui.core.train.batch_augment import apply as augment_batches
    from cnntui.core.train.lr_find import DEFAULT_STEPS, run_sweep

    model, units, loss, mode = build_compiled(1e-7)
    ds = augment_batches(
        _reencode(bundle.train, mode, bundle.num_classes), mixing, bundle.num_classes
    )
    sweep = run_sweep(model, ds, min(DEFAULT_STEPS, max(10, steps)))
    if sweep.suggestion is None:
        raise ValueError("--lr auto: the sweep found no falling loss; give --lr a number")
    record = sweep.to_dict()
    atomic_write_json(run.path(LR_FIND), record)
    import keras

    keras.backend.clear_session(free_memory=False)
    return {
        "suggestion": sweep.suggestion,
        "suggestions": sweep.suggestions,
        "rule": "valley",
        "file": LR_FIND,
    }


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
