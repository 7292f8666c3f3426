"""Learning-rate schedules as step functions of the optimizer's iteration count.

Every schedule is one of Keras's own (``CosineDecay``, ``PiecewiseConstantDecay``), so a
checkpoint opens with plain ``keras.models.load_model`` and resuming continues the same
curve: the LR depends only on ``optimizer.iterations``, which ``last.keras`` keeps.

- ``constant``: the base LR (after the warm-up, if any);
- ``cosine``: linear warm-up to the base LR, then cosine down to ``COSINE_MIN`` × base
  (timm's ``cosine``, SGDR without restarts);
- ``onecycle``: linear warm-up from base / 25 (30% of the run unless ``--warmup``), then
  cosine down to base / 25 / 10⁴ (PyTorch's ``OneCycleLR`` factors);
- ``step``: ×0.1 at 50% and again at 75% of the run (torchvision's multi-step shape);
- ``plateau``: the base LR, halved when ``val_loss`` stalls (``ReduceLROnPlateau``).

The warm-up starts at base / ``WARMUP_DIVISOR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "cosine", "onecycle", "step", "plateau")
WARMUP_DIVISOR = 25.0
COSINE_MIN = 1e-3
ONECYCLE_WARMUP = 0.3
ONECYCLE_FINAL_DIVISOR = 1e4
STEP_MILESTONES = (0.5, 0.75)
STEP_GAMMA = 0.1
MAX_WARMUP_STAIRS = 50  # ``step`` warms up in at most this many stairs


def check_schedule(name: str) -> str:
    """``name`` lower-cased, or ValueError listing the schedules."""
    low = str(name).lower()
    if low not in SCHEDULES:
        raise ValueError(f"--schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    return low


@dataclass(frozen=True)
class SchedulePlan:
    """A schedule fitted to a run: name, base LR, total and warm-up steps."""

    name: str
    base_lr: float
    total_steps: int
    warmup_steps: int = 0

    def warmup(self) -> int:
        """Warm-up steps actually used (``onecycle`` defaults to 30% of the run)."""
        if self.name == "onecycle" and not self.warmup_steps:
            return max(1, round(ONECYCLE_WARMUP * self.total_steps))
        return min(self.warmup_steps, max(0, self.total_steps - 1))

    def lr_at(self, step: float) -> float:
        """The learning rate at optimizer step ``step`` (0-based), in plain Python."""
        base, total, warm = self.base_lr, max(1, self.total_steps), self.warmup()
        if self.name == "step":
            bounds, values = self._pieces()
            return next((v for b, v in zip(bounds, values) if step <= b), values[-1])
        if warm and step < warm:
            start = base / WARMUP_DIVISOR
            return start + (base - start) * step / warm
        alpha = self._alpha()
        frac = min(step - warm, total - warm) / max(1, total - warm)
        return base * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)

    def _alpha(self) -> float:
        if self.name == "onecycle":
            return 1.0 / (WARMUP_DIVISOR * ONECYCLE_FINAL_DIVISOR)
        return 1.0 if self.name in ("constant", "plateau") else COSINE_MIN

    def _pieces(self) -> tuple[list[int], list[float]]:
        """``step``: boundaries (last step of each piece) and values, as Keras takes them."""
        base, warm = self.base_lr, self.warmup()
        start = base / WARMUP_DIVISOR
        bounds: list[int] = []
        values: list[float] = []
        stairs = min(warm, MAX_WARMUP_STAIRS)
        for i in range(stairs):  # the warm-up in equal stairs: steps 0 … warm - 1
            bounds.append(round((i + 1) * warm / stairs) - 1)
            values.append(start + (base - start) * i / stairs)
        level = base
        for m in STEP_MILESTONES:
            b = round(m * self.total_steps) - 1
            if not bounds or b > bounds[-1]:
                bounds.append(b)
                values.append(level)
            level *= STEP_GAMMA
        values.append(level)
        return bounds, values

    def keras(self) -> Any:
        """A float (no schedule needed) or a Keras ``LearningRateSchedule``."""
        warm = self.warmup()
        if self.name in ("constant", "plateau") and not warm:
            return float(self.base_lr)
        from keras.optimizers import schedules

        if self.name == "step":
            bounds, values = self._pieces()
            return schedules.PiecewiseConstantDecay(bounds, [float(v) for v in values])
        return schedules.CosineDecay(
            initial_learning_rate=self.base_lr / WARMUP_DIVISOR if warm else self.base_lr,
            decay_steps=max(1, self.total_steps - warm),
            alpha=self._alpha(),
            warmup_target=float(self.base_lr) if warm else None,
            warmup_steps=warm,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_lr": self.base_lr,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup(),
        }
