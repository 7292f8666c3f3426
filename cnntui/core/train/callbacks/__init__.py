"""Every Keras callback of a training run, one per module (as ``keras/src/callbacks/``).

These modules import Keras at the top; they are imported only when training starts
(``TrainingSession.make_callbacks``), so nothing that merely lists, prepares or follows
runs pays for Keras. They import the plain helpers (``budget``, ``schedules``,
``checkpoint``, ``events``), never the reverse.

- ``base``: how batch hooks run off TensorFlow (:class:`AsyncBatchHooks`), resumable
  counters (:class:`ResumableCounters`).
- ``event_callback``: :class:`EventCallback` turns ``fit`` into ``begin``/``batch``/
  ``epoch`` events (see ``events.py``), announcing :class:`RunInfo`.
- ``run_checkpoint``: :class:`RunCheckpoint`, the atomic ``ModelCheckpoint``.
- ``nan_guard``: :class:`NaNGuard`, a non-finite loss fails the run with a reason.
- ``early_stopping``, ``reduce_lr_on_plateau``: :class:`ResumableEarlyStopping`,
  :class:`ResumableReduceLROnPlateau` put back what ``state.json`` recorded.
- ``time_budget``: :class:`TimeBudget` (``--time``); ``step_lr``: :class:`StepLR`, a
  per-step LR that may be refit; ``ema_swap``, ``ema_finish``: the EMA of the weights.
- ``phase_events``: :class:`PhaseEvents`, fine-tuning's ``phase`` events.
- ``training_callbacks``: :class:`TrainingCallbacks`, the callbacks of one run by type,
  in ``fit``'s order.
"""

from cnntui.core.train.callbacks.base import (
    ASYNC_BATCH_HOOKS,
    AsyncBatchHooks,
    ResumableCounters,
    current_learning_rate,
)
from cnntui.core.train.callbacks.early_stopping import ResumableEarlyStopping
from cnntui.core.train.callbacks.ema_finish import EmaFinish, ema_callbacks
from cnntui.core.train.callbacks.ema_swap import EmaSwap
from cnntui.core.train.callbacks.event_callback import SKIPPED_IN_EVENT, EventCallback, RunInfo
from cnntui.core.train.callbacks.nan_guard import NaNGuard
from cnntui.core.train.callbacks.phase_events import PhaseEvents
from cnntui.core.train.callbacks.reduce_lr_on_plateau import ResumableReduceLROnPlateau
from cnntui.core.train.callbacks.run_checkpoint import RunCheckpoint
from cnntui.core.train.callbacks.step_lr import StepLR, step_lr_callback
from cnntui.core.train.callbacks.time_budget import TimeBudget, budget_callback
from cnntui.core.train.callbacks.training_callbacks import TrainingCallbacks

__all__ = [
    "ASYNC_BATCH_HOOKS",
    "SKIPPED_IN_EVENT",
    "AsyncBatchHooks",
    "EmaFinish",
    "EmaSwap",
    "EventCallback",
    "NaNGuard",
    "PhaseEvents",
    "ResumableCounters",
    "ResumableEarlyStopping",
    "ResumableReduceLROnPlateau",
    "RunCheckpoint",
    "RunInfo",
    "StepLR",
    "TimeBudget",
    "TrainingCallbacks",
    "budget_callback",
    "current_learning_rate",
    "ema_callbacks",
    "step_lr_callback",
]
