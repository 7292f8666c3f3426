"""``--time 10m``: a wall-clock budget for a training run.

Before ``fit``, a few timed training and validation steps on the real model (weights and
optimizer state put back afterwards) give the seconds an epoch takes; the epoch count is
set so the run ends on time, and the LR schedule is fitted to that count. During
training, a callback stops after an epoch when the next one would overrun the budget.
All of it uses one clock, ``time.monotonic``, started when training starts.
"""

from __future__ import annotations

import functools
import math
import re
import time
from dataclasses import dataclass

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
MIN_BUDGET_S = 5.0
PROBE_STEPS = 6  # timed training steps (after one untimed compile step)
PROBE_VAL_STEPS = 3


def parse_duration(text: str) -> float:
    """``"10m"``, ``"1h30m"``, ``"90s"``, ``"45"`` (seconds) → seconds; ValueError otherwise."""
    s = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        seconds = float(s)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", s)
        if not parts or "".join(n + u for n, u in parts) != s:
            raise ValueError(f"--time takes a duration such as 90s, 10m or 1h30m; got {text!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < MIN_BUDGET_S:
        raise ValueError(
            f"--time {text} is too short to train anything; give at least {MIN_BUDGET_S:g}s"
        )
    return seconds


def format_duration(seconds: float) -> str:
    """``5400`` → ``"1h30m"``; ``75`` → ``"1m15s"``."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec or not s else "")
    return out


@dataclass
class Budget:
    """A budget of ``seconds`` on the monotonic clock, counted from ``started``."""

    seconds: float
    started: float

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.seconds - self.elapsed()


def epochs_for(left_s: float, epoch_s: float, budget_s: float) -> int:
    """Whole epochs of ``epoch_s`` that fit in ``left_s``; ValueError when none does."""
    if epoch_s <= 0:
        return 1
    n = math.floor(left_s / epoch_s)
    if n < 1:
        raise ValueError(
            f"--time {format_duration(budget_s)} is too short to finish one epoch: one takes "
            f"about {epoch_s:.0f}s here, {max(0.0, left_s):.0f}s of the budget are left; "
            f"give more time, or use --limit / a smaller --batch-size count of images"
        )
    return n


def probe_epoch_seconds(model, train_ds, val_ds, steps: int, val_steps: int) -> float:
    """Estimated seconds of one epoch (training + validation), by timing a few real steps.

    The model's and optimizer's variables are restored afterwards, so training starts
    from exactly where it would have. The compile step is not counted.
    """
    import numpy as np

    opt = model.optimizer
    if not opt.built:
        opt.build(model.trainable_variables)
    saved_model = [np.array(v.numpy()) for v in model.variables]
    saved_opt = [np.array(v.numpy()) for v in opt.variables]
    it = iter(train_ds.repeat())
    n = min(PROBE_STEPS, max(1, steps - 1))
    x, y = next(it)
    model.train_on_batch(x, y)  # compiles
    t0 = time.monotonic()
    for _ in range(n):
        x, y = next(it)
        model.train_on_batch(x, y)
    per_step = (time.monotonic() - t0) / n
    per_val = 0.0
    if val_ds is not None and val_steps:
        vit = iter(val_ds.repeat())
        x, y = next(vit)
        model.test_on_batch(x, y)
        m = min(PROBE_VAL_STEPS, val_steps)
        t0 = time.monotonic()
        for _ in range(m):
            x, y = next(vit)
            model.test_on_batch(x, y)
        per_val = (time.monotonic() - t0) / m
    for v, value in zip(model.variables, saved_model):
        v.assign(value)
    for v, value in zip(opt.variables, saved_opt):
        v.assign(value)
    return per_step * steps + per_val * val_steps


def budget_callback(budget: Budget, progress):
    """Stop after an epoch when the next one would end past the budget."""
    return _budget_class()(budget, progress)


@functools.cache
def _budget_class():
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self, budget, progress):
            super().__init__()
            self.budget, self.progress = budget, progress
            self.epoch_started = 0.0
            self.durations: list[float] = []
            self.stopped = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            self.durations.append(time.monotonic() - self.epoch_started)
            recent = self.durations[-3:]
            if self.budget.left() < sum(recent) / len(recent) * 0.5:
                self.model.stop_training = True
                self.stopped = True

    return TimeBudget
