"""The learning-rate finder (Smith 2015; fastai's ``lr_find``).

An exponential sweep of the learning rate from ``start`` to ``end`` over at most one
epoch (or ``steps``), one real training step per value on a fresh model; the loss of each
batch is smoothed (exponential moving average, debiased, ``beta`` 0.98) and the sweep
stops when the smoothed loss passes ``STOP_FACTOR`` × its minimum or is not finite.
Suggestions, on the sweep without its first tenth and last five points (as fastai):

- ``valley`` (the default pick): the point two thirds down the longest run of falling
  losses (fastai's ``valley``);
- ``steep``: where the smoothed loss falls fastest per decade of LR (fastai's ``steep``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnntui.core.train.config import TrainConfig
from cnntui.core.train.prepare import Prepared, prepare

START_LR = 1e-7
END_LR = 10.0
DEFAULT_STEPS = 100
BETA = 0.98
STOP_FACTOR = 4.0


@dataclass
class Sweep:
    """A finished sweep: LRs tried, raw and smoothed losses, and the suggestions."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stopped_early: bool = False
    suggestions: dict[str, float] = field(default_factory=dict)

    @property
    def suggestion(self) -> float | None:
        return self.suggestions.get("valley") or self.suggestions.get("steep")

    def to_dict(self) -> dict[str, Any]:
        return {
            "lrs": self.lrs,
            "losses": self.losses,
            "smoothed": self.smoothed,
            "stopped_early": self.stopped_early,
            "suggestions": self.suggestions,
            "suggestion": self.suggestion,
            "rule": "valley (fastai): two thirds down the longest descent of the smoothed loss",
        }


def lr_values(steps: int, start: float = START_LR, end: float = END_LR) -> np.ndarray:
    """``steps`` learning rates spaced evenly on a log scale from ``start`` to ``end``."""
    if steps < 2:
        raise ValueError(f"--steps must be at least 2; got {steps}")
    if not 0 < start < end:
        raise ValueError(f"the sweep needs 0 < start < end; got {start:g} and {end:g}")
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


def smooth(losses: list[float], beta: float = BETA) -> list[float]:
    """Debiased exponential moving average (fastai's ``SmoothenValue``)."""
    out, avg = [], 0.0
    for i, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta**i))
    return out


def valley(lrs: list[float], losses: list[float]) -> float | None:
    """fastai's ``valley``: two thirds down the longest strictly falling subsequence."""
    n = len(losses)
    if n < 2:
        return None
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[min(idx, n - 1)])


def steep(lrs: list[float], losses: list[float]) -> float | None:
    """fastai's ``steep``: the LR where the loss falls fastest against log(LR)."""
    if len(losses) < 2:
        return None
    lr = np.log(np.asarray(lrs))
    grads = np.diff(np.asarray(losses)) / np.diff(lr)
    return float(lrs[int(np.argmin(grads))])


def suggest(lrs: list[float], smoothed: list[float]) -> dict[str, float]:
    """Both suggestions on the trimmed sweep (first tenth and last five points left out)."""
    n = len(lrs)
    lo, hi = n // 10, n - 5
    if hi - lo < 3:
        lo, hi = 0, n
    out = {}
    for name, rule in (("valley", valley), ("steep", steep)):
        value = rule(lrs[lo:hi], smoothed[lo:hi])
        if value is not None:
            out[name] = value
    return out


def run_sweep(
    model, train_ds, steps: int, start: float = START_LR, end: float = END_LR, on_step=None
) -> Sweep:
    """Sweep a compiled ``model`` (float learning rate) over ``train_ds``; it is changed."""
    from cnntui.core.train.prebuild import build_before_fit

    sweep = Sweep()
    best = math.inf
    build_before_fit(model, train_ds)  # one trace of the train step, not two
    it = iter(train_ds.repeat())
    for i, lr in enumerate(lr_values(steps, start, end)):
        model.optimizer.learning_rate = float(lr)
        x, y = next(it)
        out = model.train_on_batch(x, y, return_dict=True)
        loss = float(out["loss"])
        sweep.lrs.append(float(lr))
        sweep.losses.append(loss)
        sm = smooth(sweep.losses)[-1] if math.isfinite(loss) else math.inf
        sweep.smoothed.append(sm)
        if on_step:
            on_step(i + 1, steps, float(lr), sm)
        best = min(best, sm)
        if not math.isfinite(sm) or (i > 0 and sm > STOP_FACTOR * best):
            sweep.stopped_early = i + 1 < steps
            break
    finite = [k for k, v in enumerate(sweep.smoothed) if math.isfinite(v)]
    lrs = [sweep.lrs[k] for k in finite]
    sweep.suggestions = suggest(lrs, [sweep.smoothed[k] for k in finite])
    sweep.smoothed = [v if math.isfinite(v) else None for v in sweep.smoothed]
    sweep.losses = [v if math.isfinite(v) else None for v in sweep.losses]
    return sweep


MIN_STEPS = 20


def default_steps(steps_per_epoch: int) -> int:
    """One epoch of steps, between ``MIN_STEPS`` and ``DEFAULT_STEPS``."""
    return max(MIN_STEPS, min(DEFAULT_STEPS, int(steps_per_epoch)))


def sweep_prepared(
    prepared: Prepared, model: Any, label_mode: str, steps: int, **kwargs: Any
) -> Sweep:
    """Sweep ``model`` over the training split of ``prepared``, labels encoded for
    ``label_mode`` and batches augmented as the run's (``kwargs``: :func:`run_sweep`'s)."""
    train, _, _ = prepared.datasets(label_mode)
    return run_sweep(model, train, steps, **kwargs)


def find_lr(
    cfg: TrainConfig,
    steps: int | None = None,
    start: float = START_LR,
    end: float = END_LR,
    on_step: Callable[[int, int, float, float], None] | None = None,
) -> tuple[Sweep, dict[str, Any]]:
    """Sweep for a training request ``cfg``: the data, input size, model and recipe that
    ``cnntui train`` would use (its :func:`~cnntui.core.train.prepare.prepare` step).
    Returns the sweep and facts about it (imports TensorFlow)."""
    cfg.validate()
    prepared = prepare(cfg)
    hp = prepared.hp
    model, _, _, mode = prepared.compile(float(start))
    per_epoch = prepared.steps_per_epoch
    n = steps or default_steps(per_epoch)
    sweep = sweep_prepared(prepared, model, mode, n, start=start, end=end, on_step=on_step)
    info = {
        "model": prepared.entry.name,
        "data": prepared.bundle.source,
        "input_shape": list(prepared.input_choice.shape),
        "batch_size": hp["batch_size"],
        "optimizer": hp["optimizer"],
        "recipe": hp["recipe"],
        "steps": n,
        "steps_per_epoch": per_epoch,
        "data_options": prepared.bundle.options.to_dict(),  # as the run records them
        "counts": dict(prepared.bundle.counts),
    }
    return sweep, info
