"""``TrainConfig``: what a user asked for, before zoo defaults fill the gaps."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cnntui.core import registry
from cnntui.core.errors import ConfigError
from cnntui.core.images import RESIZE_MODES
from cnntui.core.train.strategy import check_strategy

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
DEFAULT_PATIENCE = 5


@dataclass
class TrainConfig:
    """One training request. ``None`` means "the zoo entry's default"."""

    model: str
    data: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    loss: str | None = None
    val_split: float = 0.1
    patience: int = DEFAULT_PATIENCE
    augment: list[str] = field(default_factory=list)
    seed: int = 0
    name: str | None = None
    runs_dir: str | None = None
    limit: int | None = None
    input_shape: tuple[int, int, int] | None = None
    resize_mode: str = "stretch"
    zoo: list[str] = field(default_factory=list)
    reduce_lr: bool = False
    tensorboard: bool = False
    strategy: str = "default"
    mixed_precision: bool = False
    jit_compile: bool = False
    argv: list[str] = field(default_factory=list)

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` (a ``ValueError``) naming the bad option and its values."""
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1; got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1; got {self.batch_size}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ConfigError(f"--lr must be a positive number; got {self.learning_rate}")
        if self.optimizer is not None and self.optimizer.lower() not in OPTIMIZERS:
            raise ConfigError(
                f"--optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}"
            )
        if not 0.0 <= self.val_split < 1.0:
            raise ConfigError(f"--val-split must be in [0, 1), e.g. 0.1; got {self.val_split}")
        if self.patience < 0:
            raise ConfigError(f"--patience must be 0 (off) or more; got {self.patience}")
        if self.resize_mode not in RESIZE_MODES:
            raise ConfigError(
                f"--resize-mode must be one of {', '.join(RESIZE_MODES)}; got {self.resize_mode!r}"
            )
        if self.limit is not None and self.limit < 2:
            raise ConfigError(f"--limit must be at least 2 images; got {self.limit}")
        if self.tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise ConfigError(
                "--tensorboard needs the tensorboard package: `pip install tensorboard` "
                "(or drop --tensorboard; events.jsonl and history.csv are always written)"
            )
        check_strategy(self.strategy)
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape) if self.input_shape else None
        return d

    def entry(self) -> registry.ModelEntry:
        """The zoo entry to train (loading the ``zoo`` folders first)."""
        registry.load_zoo(self.zoo)
        return registry.get_model(self.model)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        if kwargs.get("input_shape"):
            kwargs["input_shape"] = tuple(kwargs["input_shape"])
        return cls(**kwargs)


def split_names(values: str | list[str] | None) -> list[str]:
    """``"flip, rotation"`` or ``["flip,rotation", "zoom"]`` as a list of names."""
    items = [values] if isinstance(values, str) else list(values or [])
    return [name for item in items for name in item.replace(",", " ").split()]


def hyperparameters(cfg: TrainConfig, entry: registry.ModelEntry) -> dict[str, Any]:
    """Every hyperparameter of the run: the request, else the zoo entry's default."""
    hp = entry.hyperparameters
    return {
        "optimizer": (cfg.optimizer or hp.optimizer).lower(),
        "learning_rate": float(cfg.learning_rate or hp.learning_rate),
        "loss": cfg.loss or hp.loss,
        "batch_size": int(cfg.batch_size or hp.batch_size),
        "epochs": int(cfg.epochs or hp.epochs),
        "metrics": list(hp.metrics),
        "patience": cfg.patience,
        "val_split": cfg.val_split,
        "augment": list(cfg.augment),
        "reduce_lr": cfg.reduce_lr,
        "limit": cfg.limit,
        "resize_mode": cfg.resize_mode,
        "strategy": cfg.strategy,
        "mixed_precision": cfg.mixed_precision,
        "jit_compile": cfg.jit_compile,
    }
