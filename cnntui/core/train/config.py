"""``TrainConfig``: what a user asked for, before zoo defaults fill the gaps."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cnntui.core import backend, registry
from cnntui.core.data.contract import RESCALES
from cnntui.core.data.sources import classify_source
from cnntui.core.errors import ConfigError
from cnntui.core.images import RESIZE_MODES
from cnntui.core.train.strategy import check_strategy

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
VALIDATE_ON = ("split", "test")
"""``split``: a ``val_split`` share held out of training; ``test``: the source's test set
(the whole training set is trained on), as the Keras tutorials' ``validation_data``."""
DEFAULT_PATIENCE = 5


@dataclass
class TrainConfig:
    """One training request. ``None`` means "the zoo entry's default"."""

    model: str
    data: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | str | None = None  # a number, or "auto" (lr-find first)
    optimizer: str | None = None
    loss: str | None = None
    val_split: float = 0.1
    validate_on: str = "split"
    rescale: str = "unit"
    patience: int | None = None  # None: DEFAULT_PATIENCE, off under a fitted schedule
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
    # The recipe (see recipe.py): None means "the entry's, else the recipe's default".
    recipe: str | None = None
    schedule: str | None = None
    warmup: float | None = None
    weight_decay: float | None = None
    label_smoothing: float | None = None
    ema: bool | None = None
    mixup: float | None = None
    cutmix: float | None = None
    randaugment: str | None = None  # "N,M"
    random_erasing: float | None = None  # probability
    class_weight: str | None = None  # auto | none | JSON file
    time_budget: str | None = None  # "10m", "1h30m"
    # Backbone entries (``--recipe finetune``): where the weights come from and the phases.
    weights: str | None = None  # imagenet (default) | FILE | RUN | none
    freeze_epochs: int | None = None  # epochs with the backbone frozen (phase 1)
    unfreeze: str | None = None  # all | N: the backbone blocks phase 2 trains, from the top
    lr_mult: float | None = None  # the backbone's learning rate, times the head's
    train_bn: bool = False  # BatchNorm trains too (else frozen, in inference mode)
    builder_args: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None  # the Keras backend (recorded: the process's, at the start)
    argv: list[str] = field(default_factory=list)

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` (a ``ValueError``) naming the bad option and its values."""
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1; got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1; got {self.batch_size}")
        self._check_optimization()
        if not 0.0 <= self.val_split < 1.0:
            raise ConfigError(f"--val-split must be in [0, 1), e.g. 0.1; got {self.val_split}")
        self._check_data_options()
        if self.patience is not None and self.patience < 0:
            raise ConfigError(f"--patience must be 0 (off) or more; got {self.patience}")
        if self.resize_mode not in RESIZE_MODES:
            raise ConfigError(
                f"--resize-mode must be one of {', '.join(RESIZE_MODES)}; got {self.resize_mode!r}"
            )
        if self.limit is not None and self.limit < 2:
            raise ConfigError(f"--limit must be at least 2 images; got {self.limit}")
        if self.tensorboard and not backend.installed("tensorflow"):
            raise ConfigError(
                "--tensorboard writes its logs with TensorFlow, which is not installed; "
                "pip install tensorflow tensorboard (or drop --tensorboard; events.jsonl and "
                "history.csv are always written)"
            )
        if self.tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise ConfigError(
                "--tensorboard needs the tensorboard package: `pip install tensorboard` "
                "(or drop --tensorboard; events.jsonl and history.csv are always written)"
            )
        check_strategy(self.strategy)
        self._validate_recipe()
        return self

    def _check_data_options(self) -> None:
        if self.validate_on not in VALIDATE_ON:
            raise ConfigError(
                f"--validate-on must be {' or '.join(VALIDATE_ON)}; got {self.validate_on!r}"
            )
        if self.validate_on == "test" and classify_source(self.data).kind == "sample":
            raise ConfigError(
                "--validate-on test: the bundled sample has no test set; use --data mnist "
                "(or another source with a test set), or --validate-on split"
            )
        if self.rescale not in RESCALES:
            raise ConfigError(f"--rescale must be {' or '.join(RESCALES)}; got {self.rescale!r}")

    def _check_optimization(self) -> None:
        lr = self.learning_rate
        if lr not in ("auto", None) and not (isinstance(lr, int | float) and lr > 0):
            raise ConfigError(f"--lr must be a positive number or auto; got {lr!r}")
        if self.optimizer is not None and self.optimizer.lower() not in OPTIMIZERS:
            raise ConfigError(
                f"--optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}"
            )

    def _validate_recipe(self) -> None:
        from cnntui.core.train.batch_augment import parse_randaugment
        from cnntui.core.train.budget import parse_duration
        from cnntui.core.train.class_weights import check_class_weight
        from cnntui.core.train.finetune import make_plan
        from cnntui.core.train.recipe import check_recipe
        from cnntui.core.train.schedules import check_schedule

        if self.recipe is not None:
            self.recipe = check_recipe(self.recipe)
        if self.schedule is not None:
            self.schedule = check_schedule(self.schedule)
        for flag, value in (
            ("--warmup", self.warmup),
            ("--weight-decay", self.weight_decay),
            ("--mixup", self.mixup),
            ("--cutmix", self.cutmix),
        ):
            if value is not None and value < 0:
                raise ConfigError(f"{flag} must be 0 or more; got {value:g}")
        if self.random_erasing is not None and not 0 <= self.random_erasing <= 1:
            raise ConfigError(
                f"--random-erasing is a probability in [0, 1], e.g. 0.25; got {self.random_erasing}"
            )
        parse_randaugment(self.randaugment)
        self.class_weight = check_class_weight(self.class_weight)
        if self.time_budget is not None:
            parse_duration(self.time_budget)
        make_plan(self.freeze_epochs, self.unfreeze, self.lr_mult, self.train_bn)

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


FITTED_SCHEDULES = ("onecycle", "cosine")  # curves fitted to the run's length


def patience_for(cfg: TrainConfig, rec: dict[str, Any]) -> int:
    """Early stopping's patience: ``--patience``, else off when the schedule is fitted to
    the run (one-cycle, cosine, ``--time``: stopping early skips the annealing that gives
    the recipe its accuracy), else :data:`DEFAULT_PATIENCE`."""
    if cfg.patience is not None:
        return int(cfg.patience)
    if rec.get("schedule") in FITTED_SCHEDULES or cfg.time_budget:
        return 0
    return DEFAULT_PATIENCE


def hyperparameters(cfg: TrainConfig, entry: registry.ModelEntry) -> dict[str, Any]:
    """Every hyperparameter of the run: the request, else the entry's, else the recipe's.

    Raises ValueError for recipe settings that cannot work (before any work is done).
    """
    from cnntui.core.train.batch_augment import parse_randaugment
    from cnntui.core.train.budget import parse_duration
    from cnntui.core.train.recipe import resolve

    hp = entry.hyperparameters
    epochs = int(cfg.epochs or hp.epochs)
    entry.check_builder_args(cfg.builder_args)
    rec = resolve(cfg, entry, epochs)
    ra = parse_randaugment(cfg.randaugment)
    return {
        "optimizer": rec.pop("optimizer"),
        "learning_rate": rec.pop("learning_rate"),
        "loss": cfg.loss or hp.loss,
        "batch_size": int(cfg.batch_size or hp.batch_size),
        "epochs": epochs,
        **rec,
        "randaugment": list(ra) if ra else None,
        "random_erasing": float(cfg.random_erasing or 0.0),
        "class_weight": cfg.class_weight,
        "time_budget_s": parse_duration(cfg.time_budget) if cfg.time_budget else None,
        "lr_auto": cfg.learning_rate == "auto",
        "builder_args": dict(cfg.builder_args),
        "metrics": list(hp.metrics),
        "patience": patience_for(cfg, rec),
        "val_split": cfg.val_split,
        "validate_on": cfg.validate_on,
        "rescale": cfg.rescale,
        "augment": list(cfg.augment),
        "reduce_lr": cfg.reduce_lr,
        "limit": cfg.limit,
        "resize_mode": cfg.resize_mode,
        "strategy": cfg.strategy,
        "mixed_precision": cfg.mixed_precision,
        "jit_compile": cfg.jit_compile,
    }
