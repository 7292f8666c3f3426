"""Run one training: the public entry points over :class:`TrainingSession`.

``prepare_run`` validates the request and creates the run directory (``request.json``,
a first ``config.json``, status ``running``) without importing TensorFlow, so a caller
knows the run id at once. ``execute`` then trains in this process and records events,
checkpoints, history, metrics and the final status. ``train`` does both; ``resume``
continues a run from its last completed epoch.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from cnntui.core import backend
from cnntui.core.atomic import atomic_write_json
from cnntui.core.data.preflight import check_training_data
from cnntui.core.errors import ConfigError
from cnntui.core.runs import CONFIG, REQUEST, Run, create_run, resolve_run
from cnntui.core.train import multiworker
from cnntui.core.train.checkpoint import read_state
from cnntui.core.train.config import TrainConfig, hyperparameters
from cnntui.core.train.environment import versions
from cnntui.core.train.events import Sink
from cnntui.core.train.session import TrainingSession, TrainResult

__all__ = [
    "TrainResult",
    "execute",
    "prepare_resume",
    "prepare_run",
    "resume",
    "train",
    "versions",  # (defined in environment.py; kept here for callers)
]


def prepare_run(cfg: TrainConfig) -> Run:
    """Validate ``cfg``, create its run directory and record the request. No TensorFlow."""
    cfg.validate()
    cfg.backend = cfg.backend or backend.current()
    if cfg.data and Path(cfg.data).expanduser().exists():
        cfg.data = str(Path(cfg.data).expanduser().resolve())
    cfg.zoo = [str(Path(z).expanduser().resolve()) for z in cfg.zoo]
    check_training_data(cfg.data, cfg.augment)  # data mistakes fail here, before a run exists
    entry = cfg.entry()
    try:  # builder values and recipe settings fail here, before a run directory exists
        hp = hyperparameters(cfg, entry)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if entry.pretrained is not None:  # weights fetched and proven to fit, before the run
        from cnntui.core.train.finetune import check_request

        hp["weights"] = check_request(cfg, entry, hp).to_dict()
    runs_dir = cfg.runs_dir
    if not multiworker.writes_run(cfg.strategy):  # only the chief writes the real run
        runs_dir = multiworker.scratch_runs_dir()
    run = create_run(entry.name, cfg.name, runs_dir)
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
            "backend": cfg.backend,
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
    if run.status == "running":
        raise ConfigError(
            f"run {run.id} is still running (pid {info.get('pid')}); stop it first "
            f"(Ctrl+C, or `kill {info.get('pid')}`)"
        )
    request = run.read_json(REQUEST)
    if not request:
        raise ConfigError(f"run {run.id} has no {REQUEST}; it was not made by `cnntui train`")
    cfg = TrainConfig.from_dict(request)
    if epochs is not None:
        cfg.epochs = epochs
        cfg.validate()
        atomic_write_json(run.path(REQUEST), cfg.to_dict())
    total = cfg.epochs or run.config.get("hyperparameters", {}).get("epochs")
    done = int(read_state(run).get("epochs_completed") or 0)
    if total and done >= int(total):
        raise ConfigError(
            f"run {run.id} already completed {done} of {total} epochs; "
            f"pass --epochs N (more than {done}) to train it further"
        )
    run.set_status("running", resumed=time.time())
    return run


def execute(
    run: Run, sinks: list[Sink] | None = None, stop: threading.Event | None = None
) -> TrainResult:
    """Train the run prepared in ``run`` (fresh or resumed) in this process.

    ``sinks`` are display sinks (droppable); ``stop`` ends training after the current
    batch. A training error marks the run ``failed`` and is raised as a ``CnntuiError``
    (``TrainingError``, exit code 1, for a Keras/TensorFlow error).
    """
    return TrainingSession(run, sinks, stop).execute()


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
    run = prepare_resume(resolve_run(ref, runs_dir), epochs)
    return execute(run, sinks=sinks, stop=stop)
