"""``TrainingSession``: one run trained in this process, one method per step.

``execute`` (in ``runner.py``) opens a session on a prepared run and calls
:meth:`TrainingSession.execute`, which goes through :meth:`setup` (strategy, precision),
:meth:`prepare` (zoo entry, hyperparameters, seed, data: ``prepare.py``, the step
``find_lr`` shares), :meth:`build_model`, :meth:`record_config`, :meth:`make_callbacks`
and :meth:`fit`, then :meth:`finish` (metrics, final event, status) — or :meth:`fail` on
an error. Every attribute is set in ``__init__``; a step fills in its own.

Events go to an :class:`~cnntui.core.train.events.EventLog` with two kinds of sinks:
record sinks, in order ``events.jsonl`` → :class:`EpochRecorder` (``history.csv`` +
``state.json``) → the metrics collector, whose failure fails the run; then the caller's
display sinks, which may be dropped. Keras is imported only once training starts.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnntui.core import jax_ops
from cnntui.core.atomic import atomic_write_json, atomic_write_text
from cnntui.core.errors import CnntuiError, ConfigError, TrainingError
from cnntui.core.runs import CONFIG, EVENTS, LAST, METRICS, REQUEST, SKIPPED, TRACEBACK, Run
from cnntui.core.train.budget import Budget
from cnntui.core.train.checkpoint import EpochRecorder, history_best, read_state
from cnntui.core.train.config import TrainConfig
from cnntui.core.train.environment import versions
from cnntui.core.train.events import EventLog, JsonlSink, Sink
from cnntui.core.train.prepare import Prepared, prepare
from cnntui.core.train.progress import Progress
from cnntui.core.train.resume import resume_point
from cnntui.core.train.schedules import SchedulePlan

if TYPE_CHECKING:
    from cnntui.core.train.callbacks import TrainingCallbacks

FORCED_STOP = "interrupted by user (forced)"
LR_FIND = "lr_find.json"  # the sweep of ``--lr auto``
NOTHING_TO_RESUME = "no epoch completed, nothing to resume from (no checkpoint written)"


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


BUDGET_EPOCH_BOUND = 100_000  # epochs fit may run under --time (see fit_epochs)


class MetricsCollector:
    """Record sink keeping what ``metrics.json`` needs from the events (tiny, bounded)."""

    def __init__(self) -> None:
        self.last_logs: dict[str, Any] = {}
        self.rates: list[float] = []

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") == "epoch":
            self.last_logs = event.get("logs") or {}
            if event.get("images_per_sec"):
                self.rates.append(float(event["images_per_sec"]))

    def close(self) -> None:
        pass


class TrainingSession:
    """Run, request, event log, progress, model and typed callbacks of one training.

    Every attribute is set here; each step fills in its own (``None`` until then):
    :meth:`setup` the strategy and precision policy, :meth:`prepare` ``prepared``,
    :meth:`build_model` the model, LR plan, datasets, class weights and time budget,
    :meth:`make_callbacks` ``callbacks``.
    """

    def __init__(
        self, run: Run, display: list[Sink] | None = None, stop: threading.Event | None = None
    ):
        self.run = run
        self.cfg = TrainConfig.from_dict(run.read_json(REQUEST))
        self.state = read_state(run)
        self.initial_epoch = resume_point(run)
        self.progress = Progress(
            stop=stop or threading.Event(), epochs_completed=self.initial_epoch
        )
        self.collector = MetricsCollector()
        self.recorder = EpochRecorder(run, self.resume_state)
        self.log = EventLog(
            display, record=[JsonlSink(run.path(EVENTS)), self.recorder, self.collector]
        )
        self.started = time.monotonic()
        # setup()
        self.strategy: Any = None
        self.policy: str | None = None
        # prepare()
        self.prepared: Prepared | None = None
        # build_model()
        self.model: Any = None
        self.plan: SchedulePlan | None = None
        self.per_step = False  # the LR set per step by a callback (--time with a schedule)
        self.units = 0
        self.train_ds: Any = None
        self.val_ds: Any = None
        self.test_ds: Any = None
        self.class_weight: dict[int, float] | None = None
        self.budget: Budget | None = None
        # make_callbacks()
        self.callbacks: TrainingCallbacks | None = None

    @property
    def resuming(self) -> bool:
        """Whether this session continues a run from a completed epoch."""
        return self.initial_epoch > 0

    @property
    def ready(self) -> Prepared:
        """What :meth:`prepare` made (RuntimeError before it)."""
        if self.prepared is None:
            raise RuntimeError("TrainingSession.prepare() comes before this step")
        return self.prepared

    # -- the whole run ----------------------------------------------------------------

    def execute(self) -> TrainResult:
        """Train to the end; a failure is recorded in the run, then raised."""
        self.started = time.monotonic()
        self.run.set_status("running")
        try:
            return self.finish(self.train())
        except Exception as exc:
            error = self.fail(exc)
            if error is exc:
                raise
            raise error from exc

    def train(self) -> TrainResult:
        """Every step from the strategy to ``fit``; how the training part ended."""
        from cnntui.core.train import strategy as strat

        try:
            with self.stop_on_signals():
                self.setup()
                self.prepare()
                self.build_model()
                self.record_config()
                self.make_callbacks()
                self.fit()
        except KeyboardInterrupt:
            return TrainResult(self.run, "stopped", reason=FORCED_STOP)
        finally:
            strat.set_precision(False)
        return self.outcome()

    # -- the steps --------------------------------------------------------------------

    def setup(self) -> None:
        """Distribution strategy and precision policy (before TensorFlow runs an op)."""
        from cnntui.core.train import strategy as strat

        self.strategy = strat.make_strategy(self.cfg.strategy)
        self.policy = strat.set_precision(self.cfg.mixed_precision)

    def prepare(self) -> None:
        """Zoo entry, hyperparameters, seed and data (integer labels, re-encoded for the
        head in ``build_model``): the step ``find_lr`` shares; on resume, exactly what the
        first session chose and fitted."""
        recorded = self.run.config if self.resuming else None
        checked = (self.run.config.get("hyperparameters") or {}).get("weights")  # preflight's
        self.prepared = prepare(self.cfg, recorded, self.initial_epoch, checked)

    def build_model(self) -> None:
        """Build and compile the model with the recipe (or load ``last.keras`` on resume);
        fit labels to it; with ``--lr auto`` sweep first, with ``--time`` fit the epochs."""
        ready = self.ready
        hp = ready.hp
        with self.strategy.scope():
            if hp["lr_auto"] and not self.resuming:
                hp["lr_find"] = self._auto_lr()
                hp["learning_rate"] = hp["lr_find"]["suggestion"]
            self.plan = self.plan_for(hp["epochs"])
            # --time refits the curve after each epoch: the LR is then set per step by a
            # callback (a float in the optimizer), not by an in-graph Keras schedule.
            self.per_step = bool(hp["time_budget_s"]) and not isinstance(self.plan.keras(), float)
            loss, mode = self._resumed_model() if self.resuming else self._new_model()
        self._fit_labels(loss, mode)
        self.class_weight = _class_weight(hp, ready.bundle)
        if hp["time_budget_s"] and not self.resuming:
            self._fit_to_budget()
        hp["lr_schedule"] = self.plan.to_dict()
        if hp["ema"]:
            hp["ema_momentum"] = float(self.model.optimizer.ema_momentum)

    def _new_model(self) -> tuple[Any, str]:
        """Build and compile the model at the plan's first LR; (loss, label mode)."""
        plan = self.plan
        first = plan.lr_at(0) if self.per_step else plan.keras()
        self.model, self.units, loss, mode = self.ready.compile(first, plan.total_steps)
        return loss, mode

    def _resumed_model(self) -> tuple[Any, str]:
        """``last.keras``, its LR curve put back; (loss, label mode) for its head."""
        import keras

        from cnntui.core.heads import loss_for, output_units
        from cnntui.core.train.recipe import make_loss

        hp, plan = self.ready.hp, self.plan
        jax_ops.install()
        self.model = keras.models.load_model(self.run.path(LAST))
        self.units = output_units(self.model)
        loss, mode = make_loss(
            loss_for(hp["loss"], self.units), self.units, hp["label_smoothing"],
            self.ready.mixing.soft_labels,
        )  # fmt: skip
        if not self.per_step and not isinstance(plan.keras(), float):
            self.model.optimizer.learning_rate = plan.keras()  # the same curve
        from cnntui.core.train.finetune import group_rates

        group_rates(self.model.optimizer, self.model, hp, self.steps)  # a plain optimizer again
        return loss, mode

    def _fit_labels(self, loss: Any, mode: str) -> None:
        """Record the loss; encode the labels for the head (``mode``), augment the batches."""
        ready = self.ready
        bundle = ready.bundle
        bundle.label_mode = mode
        ready.hp["loss"] = loss if isinstance(loss, str) else _loss_name(loss)
        if bundle.label_mode == "binary" and bundle.num_classes != 2:
            raise ConfigError(
                f"{ready.entry.name} has a one-unit sigmoid head (two classes) but the data "
                f"has {bundle.num_classes} classes; pick a multi-class entry or two-class data"
            )
        seed = self.cfg.seed + self.initial_epoch
        self.train_ds, self.val_ds, self.test_ds = ready.datasets(bundle.label_mode, seed)
        if hasattr(self.train_ds, "set_epoch"):  # a PyDataset: resume its shuffle sequence
            self.train_ds.set_epoch(self.initial_epoch)

    @property
    def steps(self) -> int:
        """Optimizer steps of one epoch."""
        return self.ready.steps_per_epoch

    def plan_for(self, epochs: int) -> SchedulePlan:
        """The LR schedule of ``epochs`` epochs at this run's steps per epoch."""
        from cnntui.core.train.recipe import steps_for

        hp, steps = self.ready.hp, self.steps
        warmup = steps_for(hp["warmup"], steps)
        return SchedulePlan(hp["schedule"], hp["learning_rate"], epochs * steps, warmup)

    def _auto_lr(self) -> dict[str, Any]:
        """``--lr auto``: sweep a throwaway copy of the model; record it in ``lr_find.json``."""
        import keras

        from cnntui.core.train.lr_find import default_steps, sweep_prepared

        model, _, _, mode = self.ready.compile(1e-7)
        sweep = sweep_prepared(self.ready, model, mode, default_steps(self.steps))
        if sweep.suggestion is None:
            raise ConfigError("--lr auto: the sweep found no falling loss; give --lr a number")
        atomic_write_json(self.run.path(LR_FIND), sweep.to_dict())
        keras.backend.clear_session(free_memory=False)
        return {"suggestion": sweep.suggestion, "suggestions": sweep.suggestions, "file": LR_FIND}

    def _fit_to_budget(self) -> None:
        """``--time``: time a few real steps, set the epochs and fit the schedule to them."""
        from cnntui.core.train import recipe as rcp
        from cnntui.core.train.budget import epochs_for, probe_epoch_seconds

        cfg, ready, steps = self.cfg, self.ready, self.steps
        hp = ready.hp
        self.budget = Budget(hp["time_budget_s"])
        val_steps = math.ceil(int(ready.bundle.counts.get("val", 0)) / hp["batch_size"])
        epoch_s = probe_epoch_seconds(self.model, self.train_ds, self.val_ds, steps, val_steps)
        fitted = epochs_for(self.budget.left(), epoch_s, self.budget.seconds)
        hp["epochs"] = min(fitted, cfg.epochs) if cfg.epochs else fitted  # refit per epoch
        hp["epoch_seconds_estimate"] = round(epoch_s, 2)
        if hp["warmup"] and rcp.steps_for(hp["warmup"], steps) >= hp["epochs"] * steps:
            hp["warmup"] = round(hp["epochs"] * 0.1, 3)
        self.plan = self.plan_for(hp["epochs"])
        if hp["ema"]:
            self.model.optimizer.ema_momentum = rcp.ema_momentum(self.plan.total_steps)
            self.model.train_function = None  # retrace with the fitted EMA momentum
        request = cfg.to_dict()
        request["epochs"] = hp["epochs"]  # --resume continues the fitted run
        atomic_write_json(self.run.path(REQUEST), request)

    def record_config(self) -> None:
        """Complete ``config.json`` with the data, the head and the model; ``skipped.txt``."""
        from cnntui.core import backend
        from cnntui.core.train import strategy as strat

        ready = self.ready
        bundle = ready.bundle
        config = {
            **self.run.config,
            "hyperparameters": ready.hp,
            "data": bundle.to_config(),
            "input_shape": list(bundle.input_shape),
            "input_choice": ready.input_choice.to_dict(),
            "num_classes": bundle.num_classes,
            "output_units": self.units,
            "params": int(self.model.count_params()),
            "dtype_policy": self.policy,
            "strategy": strat.describe(self.strategy),
            "backend": backend.current(),  # this session's (a resume may use another)
            "versions": {**(self.run.config.get("versions") or {}), **versions()},
        }
        atomic_write_json(self.run.path(CONFIG), config)
        if bundle.skipped:
            from cnntui.core.data.late_skips import skipped_text

            atomic_write_text(self.run.path(SKIPPED), skipped_text(bundle.skipped))

    @property
    def monitor(self) -> str:
        return "val_loss" if self.val_ds is not None else "loss"

    def make_callbacks(self) -> None:
        """The run's typed callbacks (imports Keras's callback modules)."""
        from cnntui.core.data.late_skips import late_skip_callback
        from cnntui.core.train import callbacks as kc

        cfg, state, monitor, ready = self.cfg, self.state, self.monitor, self.ready
        samples = ready.samples
        self.progress.steps = math.ceil(samples / ready.hp["batch_size"]) if samples else None
        callbacks = kc.TrainingCallbacks(
            checkpoint=kc.RunCheckpoint(
                self.run,
                self.progress,
                monitor=monitor,
                best=state.get("best"),
                best_epoch=state.get("best_epoch"),
            ),
            nan_guard=kc.NaNGuard(self.progress),
            events=kc.EventCallback(
                self.log, self.progress, self.run_info(), per_step_lr=self.per_step
            ),
        )
        patience = ready.hp["patience"]
        if patience:
            callbacks.early_stopping = kc.ResumableEarlyStopping(
                monitor, patience, state.get("early_stopping"), self.run.path("best.keras")
            )
        if cfg.reduce_lr or ready.hp["schedule"] == "plateau":
            patience = max(1, patience // 2 or 2)
            callbacks.reduce_lr = kc.ResumableReduceLROnPlateau(
                monitor, patience, state.get("reduce_lr")
            )
        # files epoch 1's decode finds unreadable: a ``skipped`` event and skipped.txt
        callbacks.extra.append(late_skip_callback(ready.bundle, self.log, self.run.path(SKIPPED)))
        if cfg.tensorboard:
            import keras

            log_dir = str(self.run.path("tensorboard"))
            callbacks.extra.append(keras.callbacks.TensorBoard(log_dir=log_dir))
        self.recipe_callbacks(callbacks)
        self.callbacks = callbacks

    def run_info(self) -> Any:
        """What the ``begin`` event announces about the run."""
        from cnntui.core import backend
        from cnntui.core.data.cache import cache_line
        from cnntui.core.train.callbacks import RunInfo
        from cnntui.core.train.recipe import summary

        ready = self.ready
        bundle, hp = ready.bundle, ready.hp
        return RunInfo(
            run_id=self.run.id,
            model_name=ready.entry.name,
            batch_size=hp["batch_size"],
            samples=ready.samples,
            initial_epoch=self.initial_epoch,
            params=dict(hp),
            skipped=list(bundle.skipped),
            extra={
                "input": ready.input_choice.to_dict(),
                "recipe": summary(hp),
                "class_weight": hp.get("class_weights"),
                "backend": backend.current(),
                "data_cache": cache_line(bundle.cache) if bundle.kind == "folder" else None,
            },
        )

    def recipe_callbacks(self, callbacks: TrainingCallbacks) -> None:
        """EMA swap (first, before the checkpoint) and finish (last), per-step LR and time
        budget (after the extra callbacks)."""
        from cnntui.core.train import callbacks as kc

        hp = self.ready.hp
        if hp["ema"]:
            callbacks.ema_swap, callbacks.ema_finish = kc.ema_callbacks(
                self.resuming, self.progress
            )
        if self.per_step:
            callbacks.step_lr = kc.step_lr_callback(self.plan)
        if self.budget is not None:
            callbacks.time_budget = kc.budget_callback(
                self.budget, hp["epochs"], self.steps, callbacks.step_lr
            )
        from cnntui.core.train.finetune import plan_of

        if (plan := plan_of(hp)) is not None:
            callbacks.phase = kc.PhaseEvents(self.log, plan)

    def fit(self) -> None:
        """``model.fit`` with the run's callbacks, from the resume point."""
        from cnntui.core.train.prebuild import build_before_fit

        assert self.callbacks is not None, "make_callbacks() comes before fit()"
        with self.strategy.scope():
            build_before_fit(self.model, self.train_ds)  # one trace of the train step
        with warnings.catch_warnings():
            # a folder's pipeline has no length Keras knows (a batch of bad files drops out),
            # so Keras ends its first epoch at the data's end and calls that running out
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            self.model.fit(
                self.train_ds,
                validation_data=self.val_ds,
                epochs=self.fit_epochs(),
                initial_epoch=self.initial_epoch,
                callbacks=self.callbacks.as_list(),
                verbose=0,
                shuffle=False,
                class_weight=self.class_weight,
            )

    def fit_epochs(self) -> int:
        """Epochs ``fit`` may run: with a time budget, room for a faster machine than the
        estimate (more epochs, the curve refit); the budget callback ends the run."""
        epochs = self.ready.hp["epochs"]
        if self.budget is None:
            return epochs
        if self.cfg.epochs:
            return self.cfg.epochs
        # a bound fit never reaches: the probe may overestimate an epoch several times over
        # (a quiet machine after a busy probe), and the budget callback ends the run
        return max(BUDGET_EPOCH_BOUND, epochs)

    def outcome(self) -> TrainResult:
        """How ``fit`` ended: failed (NaN), stopped, early stopping or completed."""
        p = self.progress
        if p.failure:
            return TrainResult(self.run, "failed", reason=p.failure)
        if p.stop.is_set():
            reason = p.stop_reason or "stopped"
            if p.nothing_to_resume():
                reason = f"{reason}; {NOTHING_TO_RESUME}"
            return TrainResult(self.run, "stopped", reason=reason)
        if self.test_ds is not None:
            values = self.model.evaluate(self.test_ds, verbose=0, return_dict=True)
            p.test_metrics = {k: float(v) for k, v in values.items()}
        callbacks = self.callbacks
        stopper = callbacks.early_stopping if callbacks else None
        if stopper is not None and stopper.stopped:
            reason = (
                f"early stopping: {self.monitor} did not improve for {self.ready.hp['patience']} "
                "epochs; best weights restored"
            )
            return TrainResult(self.run, "finished", reason=reason)
        timer = callbacks.time_budget if callbacks else None
        if timer is not None and timer.stopped:
            return TrainResult(self.run, "finished", reason=f"time budget: {timer.stop_reason}")
        return TrainResult(self.run, "finished", reason="completed")

    def finish(self, result: TrainResult) -> TrainResult:
        """``metrics.json``, the final event and status; closes the event log."""
        result.metrics = self.metrics(result)
        atomic_write_json(self.run.path(METRICS), result.metrics)
        if result.status == "finished":
            self.log.emit("done", metrics=result.metrics, reason=result.reason or "completed")
        elif result.status == "stopped":
            self.log.emit(
                "stopped",
                reason=result.reason,
                epoch=self.progress.epochs_completed,
                resumable=not self.progress.nothing_to_resume(),
            )
        else:
            self.log.emit("failed", reason=result.reason, error="NaNLoss")
        self.run.set_status(result.status, reason=result.reason)
        self.log.close()
        return result

    def fail(self, exc: Exception) -> Exception:
        """Record ``exc`` in the run (traceback file, ``failed`` event, status); the error
        to raise: a :class:`CnntuiError` as it is, anything else as a :class:`TrainingError`.
        """
        reason = (" ".join(str(exc).split()) or type(exc).__name__)[:500]
        if isinstance(exc, CnntuiError):
            reason = (" ".join(exc.describe().split()))[:500]
        where = self.run.path(TRACEBACK)
        try:
            atomic_write_text(where, "".join(traceback.format_exception(exc)))
        except OSError:
            where = None
        try:
            self.log.emit("failed", reason=reason, error=type(exc).__name__)
        except CnntuiError:
            pass  # the event log itself is what failed; status.json still says so
        self.run.set_status("failed", reason=reason)
        try:
            self.log.close()
        except CnntuiError:
            pass
        if isinstance(exc, CnntuiError):
            return exc
        saved = f"; traceback in {where}" if where else ""
        return TrainingError(
            f"training failed ({type(exc).__name__}): {reason[:300]}; "
            f"run {self.run.id} is marked failed{saved}"
        )

    # -- helpers ----------------------------------------------------------------------

    def resume_state(self) -> dict[str, Any]:
        """What the epoch recorder adds to ``state.json`` (callback counters, best)."""
        return self.callbacks.resume_state() if self.callbacks else {}

    def metrics(self, result: TrainResult) -> dict[str, Any]:
        """``metrics.json``: this session's figures added to an earlier session's."""
        checkpoint = self.callbacks.checkpoint.saved_state() if self.callbacks else {}
        previous = self.run.metrics if self.state else {}
        history = history_best(self.run)
        rates = self.collector.rates
        wall = time.monotonic() - self.started + float(previous.get("wall_seconds") or 0)
        metrics: dict[str, Any] = {
            "status": result.status,
            "reason": result.reason,
            "epochs_completed": int(read_state(self.run).get("epochs_completed") or 0),
            "best_epoch": checkpoint.get("best_epoch"),
            "monitor": checkpoint.get("monitor"),
            "best_val_loss": history.get("val_loss"),
            "best_val_accuracy": history.get("val_accuracy"),
            "final": self.collector.last_logs or previous.get("final", {}),
            "wall_seconds": round(wall, 3),
            "images_per_sec": round(sum(rates) / len(rates), 1)
            if rates
            else previous.get("images_per_sec"),
        }
        if self.progress.test_metrics:
            metrics["test"] = self.progress.test_metrics
        timer = self.callbacks.time_budget if self.callbacks else None
        if timer is not None:
            metrics["time_budget"] = timer.record()
        return metrics

    @contextmanager
    def stop_on_signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM stop after the current batch; a second SIGINT aborts at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.progress.stop.is_set():
            raise KeyboardInterrupt
        reason = "interrupted by user" if signum == signal.SIGINT else "terminated (SIGTERM)"
        self.progress.request_stop(reason)
        if self.model is not None:
            self.model.stop_training = True


def _loss_name(loss: Any) -> str:
    """The Keras name of a loss object made by the recipe (for the run's record)."""
    return {
        "CategoricalCrossentropy": "categorical_crossentropy",
        "BinaryCrossentropy": "binary_crossentropy",
    }.get(type(loss).__name__, type(loss).__name__)


def _class_weight(hp: dict[str, Any], bundle: Any) -> dict[int, float] | None:
    from cnntui.core.train.class_weights import resolve_class_weight, train_class_counts

    if not hp.get("class_weight"):
        return None
    counts = train_class_counts(bundle)
    weights = resolve_class_weight(hp["class_weight"], counts, bundle.class_names)
    hp["class_weights"] = {bundle.class_names[i]: round(w, 6) for i, w in weights.items()}
    return weights
