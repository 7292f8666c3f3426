"""Headless training: ``train(TrainConfig(...))`` here, or detached in the background.

For the TUI and scripts::

    from cnntui.core.train import TrainConfig, prepare_run, start_detached, train

    result = train(TrainConfig("mnist-mlp", epochs=2, limit=500))   # blocks, in-process
    run = prepare_run(TrainConfig("mnist-mlp")); start_detached(run) # returns at once

Either way the run directory (``events.jsonl``, ``status.json``) is how to follow it;
``cnntui train MODEL --detach --json`` prints ``{"run_id", "dir", "pid", "log"}``.
"""

from cnntui.core.train.config import OPTIMIZERS, TrainConfig
from cnntui.core.train.detach import start_detached
from cnntui.core.train.events import EventLog, JsonlSink, read_events
from cnntui.core.train.runner import (
    TrainResult,
    execute,
    prepare_resume,
    prepare_run,
    resume,
    train,
)
from cnntui.core.train.session import TrainingSession

__all__ = [
    "OPTIMIZERS",
    "EventLog",
    "JsonlSink",
    "TrainConfig",
    "TrainResult",
    "TrainingSession",
    "execute",
    "prepare_resume",
    "prepare_run",
    "read_events",
    "resume",
    "start_detached",
    "train",
]
