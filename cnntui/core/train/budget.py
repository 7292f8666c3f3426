"""``--time 10m``: a wall-clock budget for training.

The budget is for training itself, as Ultralytics' ``time``: its clock
(``time.monotonic``) starts when the first training step ends, so loading data, building
the model and Keras's tracing of the step are not counted. Before that, a few timed
training and validation steps on the real model (weights and optimizer state put back
afterwards) give the seconds an epoch takes; the epoch count is set so the run ends on time and the
LR schedule is fitted to it. During training, a callback projects the count again after
each epoch and stops when less than half an epoch is left
(:class:`~cnntui.core.train.callbacks.time_budget.TimeBudget`). ``metrics.json`` records
the budget and the seconds used, on the same clock.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
MIN_BUDGET_S = 5.0
PROBE_STEPS = 6  # timed training steps (after one untimed compile step)
PROBE_VAL_STEPS = 3


def parse_duration(text: str, option: str = "--time", minimum: float = MIN_BUDGET_S) -> float:
    """``"10m"``, ``"1h30m"``, ``"90s"``, ``"45"`` (seconds) → seconds; ValueError otherwise."""
    s = str(text).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        seconds = float(s)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", s)
        if not parts or "".join(n + u for n, u in parts) != s:
            raise ValueError(f"{option} takes a duration such as 90s, 10m or 1h30m; got {text!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < minimum:
        raise ValueError(
            f"{option} {text} is too short to train anything; give at least {minimum:g}s"
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
    """A budget of ``seconds`` on the monotonic clock, counted from ``started`` (None: not
    started yet)."""

    seconds: float
    started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

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
            f"about {epoch_s:.1f}s here and {max(0.0, left_s):.1f}s of the budget are left "
            f"after timing it; give more --time, or fewer images (--limit)"
        )
    return n


def probe_epoch_seconds(model, train_ds, val_ds, steps: int, val_steps: int) -> float:
    """Estimated seconds of one epoch (training + validation), by timing a few real steps.

    The model's and optimizer's variables are restored afterwards, so training starts
    from exactly where it would have. The compile step is not counted.
    """
    import numpy as np

    from cnntui.core.train.prebuild import build_before_fit

    opt = model.optimizer
    build_before_fit(model, train_ds)  # one trace of the step, shared with the fit after
    if not opt.built:
        opt.build(model.trainable_variables)
    saved_model = [np.array(v) for v in model.variables]  # keras Variables: any backend
    saved_opt = [np.array(v) for v in opt.variables]
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


def epochs_left(left_s: float, durations: list[float]) -> int:
    """Whole epochs that still fit in ``left_s``, at the mean of the last three epochs
    (rounded: the run ends within half an epoch of its budget)."""
    recent = durations[-3:]
    per_epoch = sum(recent) / len(recent) if recent else 0.0
    return max(0, round(left_s / per_epoch)) if per_epoch > 0 else 0
