"""Studies and trials: turning an Optuna trial into a cnntui run, and back.

A study records what it searches (model, space, metric, the fixed training options) in
its user attributes, so that a second worker, a resumed study and ``train --from-trial``
all see the same definition. Each trial's run directory records the study and trial
number in its ``config.json`` (key ``tune``), and the trial records its run id.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cnntui.core.runs import CONFIG, Run, resolve_run
from cnntui.core.tune import storage as store
from cnntui.core.tune.errors import TuneError
from cnntui.core.tune.space import Space, builder_params, check_space, default_space, parse_space

if TYPE_CHECKING:
    from cnntui.core.train.config import TrainConfig

METRICS = {"val_accuracy": "maximize", "val_loss": "minimize", "accuracy": "maximize"}
PRUNERS = ("median", "hyperband", "none")
# Trials that count towards --trials: finished ones, those under way, and genuine failures
# (a trial failed only because its worker died is retried, not counted; enqueued ones count
# once they run).
REASON = "reason"


@dataclass
class TuneRequest:
    """One ``cnntui tune`` worker's request."""

    base: TrainConfig  # the fixed options of every trial
    trials: int
    study: str | None = None
    space: str | None = None
    metric: str = "val_accuracy"
    pruner: str = "median"
    storage: str | None = None
    timeout: float | None = None
    seed: int | None = None

    def validate(self) -> None:
        if self.trials < 1:
            raise TuneError(f"--trials must be at least 1; got {self.trials}")
        if self.metric not in METRICS:
            raise TuneError(f"--metric must be one of {', '.join(METRICS)}; got {self.metric!r}")
        if self.pruner not in PRUNERS:
            raise TuneError(f"--pruner must be one of {', '.join(PRUNERS)}; got {self.pruner!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise TuneError(f"--timeout must be positive; got {self.timeout}")


@dataclass
class TrialOutcome:
    """How one trial ended, for the caller's display."""

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    run_id: str = ""
    reason: str = ""


@dataclass
class WorkerReport:
    """What one worker did."""

    study: str
    storage: str
    outcomes: list[TrialOutcome] = field(default_factory=list)
    stopped: str = ""


def study_name(request: TuneRequest) -> str:
    """``--study`` or ``<model>-<data>``."""
    if request.study:
        return request.study
    data = (request.base.data or "sample").rstrip("/").split("/")[-1]
    return f"{request.base.model}-{data}"


def _definition(request: TuneRequest, space: Space) -> dict[str, Any]:
    base = request.base.to_dict()
    for key in ("argv", "name", "runs_dir"):
        base.pop(key, None)
    return {
        "model": request.base.model,
        "space": space.spec(),
        "metric": request.metric,
        "pruner": request.pruner,
        "trials": request.trials,
        "base": base,
    }


def _pruner(name: str):
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1)
    return optuna.pruners.NopPruner()


def open_study(request: TuneRequest, *, create: bool = True):
    """Create or load the study; refuse one defined for another model or space."""
    import optuna

    request.validate()
    entry = request.base.entry()  # as the run's prepare step finds it
    space = parse_space(request.space) if request.space else default_space(entry)
    check_space(space, entry)
    url = request.storage or store.default_url(request.base.runs_dir)
    storage = store.open_storage(url)
    name = study_name(request)
    definition = _definition(request, space)
    sampler = optuna.samplers.TPESampler(seed=request.seed) if request.seed is not None else None
    with store.trial_lock(url, name):  # two workers starting together make one study
        try:
            study = optuna.create_study(
                study_name=name,
                storage=storage,
                direction=METRICS[request.metric],
                pruner=_pruner(request.pruner),
                sampler=sampler,
                load_if_exists=create,
            )
        except optuna.exceptions.DuplicatedStudyError:
            raise TuneError(f"study {name!r} already exists") from None
        known = study.user_attrs.get("definition")
        if known is None:
            study.set_user_attr("definition", definition)
        else:
            _check_same(name, known, definition)
    return study, space, storage, url


def _check_same(name: str, known: dict[str, Any], new: dict[str, Any]) -> None:
    for key, label in (("model", "model"), ("space", "search space"), ("metric", "metric")):
        if known.get(key) != new.get(key):
            raise TuneError(
                f"study {name!r} was created with {label} {known.get(key)!r}, not "
                f"{new.get(key)!r}; continue it with the same options, or pass another "
                "--study name"
            )


def counted(study) -> int:
    """Trials that count towards ``--trials`` (see the module's note)."""
    from optuna.trial import TrialState

    n = 0
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.WAITING:
            continue  # enqueued (or a lost trial's retry): the next ask() runs it
        if t.state == TrialState.FAIL and REASON not in t.user_attrs:
            continue
        n += 1
    return n


def _ask(study, url: str, trials: int):
    """The next trial, or ``None`` when the study has its ``trials`` (atomic across workers)."""
    from optuna.storages import fail_stale_trials

    with store.trial_lock(url, study.study_name):
        fail_stale_trials(study)
        if counted(study) >= trials:
            return None
        return study.ask()


class _Heartbeat:
    """Tells the storage that this worker is alive while its trial runs."""

    def __init__(self, storage, trial_id: int) -> None:
        self._storage, self._trial_id = storage, trial_id
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="tune-heartbeat")

    def _beat(self) -> None:
        while not self._done.wait(store.heartbeat_seconds()):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception:  # noqa: BLE001 - a missed beat only risks a retried trial
                continue

    def __enter__(self) -> _Heartbeat:
        self._storage.record_heartbeat(self._trial_id)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join(timeout=2)


class PruningSink:
    """An event sink that reports each epoch's metric to the trial and prunes poor ones."""

    def __init__(self, trial, metric: str, stop: threading.Event) -> None:
        self.trial, self.metric, self.stop = trial, metric, stop
        self.pruned_at: int | None = None

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") != "epoch" or self.pruned_at is not None:
            return
        value = (event.get("logs") or {}).get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return
        epoch = int(event.get("epoch") or 0)
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            self.stop.set()

    def close(self) -> None:
        pass


def trial_config(base, params: dict[str, Any], entry, name: str):
    """``base`` with the trial's parameters; builder parameters go to ``builder_args``."""
    builder = builder_params(entry)
    train_updates = {k: v for k, v in params.items() if k not in builder}
    builder_updates = {k: v for k, v in params.items() if k in builder}
    cfg = replace(base, **train_updates, name=name)
    if builder_updates:
        if not hasattr(cfg, "builder_args"):
            raise TuneError(f"{entry.name}'s builder parameters cannot be searched yet")
        cfg.builder_args = {**(getattr(base, "builder_args", None) or {}), **builder_updates}
    return cfg


def best_value(metrics: dict[str, Any], values: list[float], metric: str) -> float | None:
    """The best epoch's ``metric`` (max for accuracies, min for losses) among ``values``."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        final = (metrics.get("final") or {}).get(metric)
        return float(final) if final is not None else None
    return max(values) if METRICS[metric] == "maximize" else min(values)


def _epoch_values(run: Run, metric: str) -> list[float]:
    """``metric`` per completed epoch, from the run's events (the one fold)."""
    from cnntui.core.event_stream import fold_file
    from cnntui.core.runs import EVENTS

    return fold_file(run.path(EVENTS), skip=("batch",)).curve(metric)[1]


def _record_trial(run: Run, study_name_: str, number: int, url: str, params: dict) -> None:
    from cnntui.core.atomic import atomic_write_json

    config = run.config
    config["tune"] = {
        "study": study_name_,
        "trial": number,
        "storage": store.describe(url),
        "params": params,
    }
    atomic_write_json(run.path(CONFIG), config)


def run_worker(
    request: TuneRequest,
    *,
    sinks: Callable[[], list] | None = None,
    on_trial: Callable[[TrialOutcome], None] | None = None,
    stop: threading.Event | None = None,
) -> WorkerReport:
    """Run trials of the study until it has ``request.trials`` (or timeout / stop)."""
    study, space, storage, url = open_study(request)
    entry = request.base.entry()  # as the run's prepare step finds it
    report = WorkerReport(study=study.study_name, storage=store.describe(url))
    stop = stop or threading.Event()
    deadline = time.monotonic() + request.timeout if request.timeout else None
    while not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            report.stopped = "timeout"
            break
        trial = _ask(study, url, request.trials)
        if trial is None:
            break
        outcome = _run_trial(study, trial, space, entry, request, storage, url, sinks, stop)
        report.outcomes.append(outcome)
        if on_trial:
            on_trial(outcome)
        if outcome.state == "interrupted":
            report.stopped = "interrupted by user"
            break
    return report


def _run_trial(study, trial, space, entry, request, storage, url, sinks, stop) -> TrialOutcome:
    from optuna.trial import TrialState

    from cnntui.core.train.runner import execute, prepare_run

    trial.set_user_attr("worker", store.worker_id())
    outcome = TrialOutcome(trial.number, "running", None, {})
    with _Heartbeat(storage, trial._trial_id):  # noqa: SLF001 - Optuna exposes no public id
        try:
            params = space.suggest(trial)
            outcome.params = params
            cfg = trial_config(request.base, params, entry, f"{study.study_name}-t{trial.number}")
            run = prepare_run(cfg)
        except (ValueError, TypeError) as exc:
            return _fail(study, trial, outcome, f"bad combination: {exc}")
        outcome.run_id = run.id
        trial.set_user_attr("run_id", run.id)
        _record_trial(run, study.study_name, trial.number, url, params)
        trial_stop = threading.Event()
        pruning = PruningSink(trial, request.metric, trial_stop)
        relay = threading.Thread(target=_relay, args=(stop, trial_stop), daemon=True)
        relay.start()
        try:
            result = execute(run, sinks=[pruning, *(sinks() if sinks else [])], stop=trial_stop)
        except Exception as exc:  # noqa: BLE001 - one failing trial must not end the study
            return _fail(study, trial, outcome, " ".join(str(exc).split())[:300])
        finally:
            trial_stop.set()
    if pruning.pruned_at is not None:
        reason = f"pruned by Optuna's {request.pruner} pruner after epoch {pruning.pruned_at}"
        run.set_status("stopped", reason=reason)
        trial.set_user_attr(REASON, reason)
        study.tell(trial, state=TrialState.PRUNED)
        outcome.state, outcome.reason = "pruned", reason
        return outcome
    if result.status == "stopped":
        trial.set_user_attr("interrupted", result.reason)
        study.tell(trial, state=TrialState.FAIL)
        outcome.state, outcome.reason = "interrupted", result.reason
        return outcome
    if result.status != "finished":
        return _fail(study, trial, outcome, result.reason or result.status)
    value = best_value(result.metrics, _epoch_values(run, request.metric), request.metric)
    if value is None:
        return _fail(study, trial, outcome, f"the run recorded no {request.metric}")
    study.tell(trial, value)
    outcome.state, outcome.value = "complete", value
    return outcome


def _relay(outer: threading.Event, inner: threading.Event) -> None:
    """Pass a worker-wide stop request (Ctrl+C) on to the running trial."""
    while not inner.is_set():
        if outer.wait(0.5):
            inner.set()
            return


def _fail(study, trial, outcome: TrialOutcome, reason: str) -> TrialOutcome:
    from optuna.trial import TrialState

    trial.set_user_attr(REASON, reason)
    study.tell(trial, state=TrialState.FAIL)
    outcome.state, outcome.reason = "failed", reason
    return outcome


# --- reading a study back ---------------------------------------------------------------


def load_study(name: str, storage: str | None = None, runs_dir: str | None = None):
    """An existing study (clear error naming the studies that exist)."""
    import optuna

    url = storage or store.default_url(runs_dir)
    if store.sqlite_missing(url):
        raise TuneError(
            f"no studies yet in {store.describe(url)}; start one with "
            "`cnntui tune MODEL --study NAME` (or pass --storage URL)"
        )
    rdb = store.open_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(rdb, include_best_trial=False)]
    if name not in names:
        known = ", ".join(names) or "none yet"
        raise TuneError(
            f"no study named {name!r} in {store.describe(url)} (studies: {known}); "
            "start one with `cnntui tune MODEL --study NAME`"
        )
    return optuna.load_study(study_name=name, storage=rdb)


def join_request(
    name: str,
    storage: str | None = None,
    runs_dir: str | None = None,
    *,
    trials: int | None = None,
    timeout: float | None = None,
) -> TuneRequest:
    """A worker's request for an existing study, taken from the definition it records, so
    ``cnntui tune --study NAME`` joins it without repeating the model and options."""
    from cnntui.core.train.config import TrainConfig

    definition = load_study(name, storage, runs_dir).user_attrs.get("definition") or {}
    if not definition.get("base"):
        raise TuneError(
            f"study {name!r} does not record its training options (made by an older cnntui); "
            "join it with the command that started it: `cnntui tune MODEL --study NAME …`"
        )
    base = TrainConfig.from_dict({**definition["base"], "runs_dir": runs_dir})
    return TuneRequest(
        base=base,
        trials=trials if trials is not None else int(definition.get("trials", 20)),
        study=name,
        space=definition.get("space"),
        metric=definition.get("metric", "val_accuracy"),
        pruner=definition.get("pruner", "median"),
        storage=storage,
        timeout=timeout,
    )


def list_studies(storage: str | None = None, runs_dir: str | None = None) -> list[dict[str, Any]]:
    """One line per study in the storage."""
    import optuna

    url = storage or store.default_url(runs_dir)
    if store.sqlite_missing(url):
        return []
    rdb = store.open_storage(url)
    out = []
    for s in optuna.get_all_study_summaries(rdb, include_best_trial=True):
        best = s.best_trial
        out.append(
            {
                "study": s.study_name,
                "model": (s.user_attrs.get("definition") or {}).get("model"),
                "trials": s.n_trials,
                "direction": s.direction.name.lower() if s.direction else None,
                "best_value": best.value if best else None,
                "best_trial": best.number if best else None,
            }
        )
    return out


def leaderboard(study) -> list[dict[str, Any]]:
    """Every trial, best first (unfinished and failed ones last)."""
    from optuna.trial import TrialState

    maximize = study.direction.name == "MAXIMIZE"
    rows = []
    for t in study.get_trials(deepcopy=False):
        state = t.state.name.lower()
        if t.state == TrialState.FAIL and "interrupted" in t.user_attrs:
            state = "interrupted"
        elif t.state == TrialState.FAIL and REASON not in t.user_attrs:
            state = "lost"  # its worker died; the trial was retried
        rows.append(
            {
                "trial": t.number,
                "value": t.value,
                "state": state,
                "params": dict(t.params),
                "run_id": t.user_attrs.get("run_id", ""),
                "reason": t.user_attrs.get(REASON, t.user_attrs.get("interrupted", "")),
                "epochs": (max(t.intermediate_values) if t.intermediate_values else None),
            }
        )

    def key(row):
        has = row["value"] is not None
        v = row["value"] if has else 0.0
        return (not has, -v if maximize else v, row["trial"])

    return sorted(rows, key=key)


def importances(study) -> dict[str, float]:
    """Optuna's parameter importances (empty with fewer than two finished trials)."""
    import optuna
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(done) < 2 or len({tuple(sorted(t.params.items())) for t in done}) < 2:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):
        return {}


def trial_request(study_ref: str, storage: str | None = None, runs_dir: str | None = None):
    """The exact ``TrainConfig`` of ``STUDY[:N]`` (default: the best trial)."""
    from optuna.trial import TrialState

    from cnntui.core.runs import REQUEST
    from cnntui.core.train.config import TrainConfig

    name, _, number = study_ref.partition(":")
    study = load_study(name, storage, runs_dir)
    if number:
        try:
            trial = study.trials[int(number)]
        except (ValueError, IndexError):
            raise TuneError(
                f"study {name!r} has no trial {number!r} (trials 0–{len(study.trials) - 1})"
            ) from None
    else:
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not done:
            raise TuneError(f"study {name!r} has no finished trial yet")
        trial = study.best_trial
    run_id = trial.user_attrs.get("run_id")
    if run_id:
        try:
            request = resolve_run(run_id, runs_dir).read_json(REQUEST)
        except LookupError:
            request = {}
        if request:
            return TrainConfig.from_dict(request), trial.number, name
    definition = study.user_attrs.get("definition") or {}
    if not definition.get("base"):
        raise TuneError(f"study {name!r} does not record its training options")
    base = TrainConfig.from_dict({**definition["base"], "runs_dir": runs_dir})
    entry = base.entry()
    return trial_config(base, dict(trial.params), entry, base.name), trial.number, name
