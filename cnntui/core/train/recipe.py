"""Named training recipes and how a run's recipe settings are resolved.

Order, per setting: the command-line flag > the zoo entry's hyperparameters > the
recipe's default. The run's recipe is ``--recipe``, else the entry's (``article``
unless the entry registered ``recipe="modern"``).

- ``article``: the entry's own setup (optimizer, LR, constant schedule, nothing else),
  so ``cnntui reproduce`` stays faithful to the article.
- ``finetune``: a pretrained backbone's two phases (:mod:`cnntui.core.train.finetune`):
  the head alone for ``--freeze-epochs``, then the backbone too at ``--lr-mult`` times the
  head's rate, BatchNorm frozen; AdamW, decay 0.01 (none on biases and norms), cosine after
  a 0.3-epoch warm-up over both phases, label smoothing 0.1. The backbone entries' default
  (``modern`` with ``--weights none``, a from-scratch run to compare with).
- ``modern``: AdamW with decoupled weight decay 0.05, LR 2e-3, a linear warm-up of one
  epoch (at most 10% of the run) and cosine decay, label smoothing 0.1 and an EMA of the
  weights (validation and checkpoints use it) — the shape of timm's and torchvision's
  recipes, sized for short runs (the EMA spans about the last tenth of the run). SGD
  gets Nesterov momentum 0.9 and decay 5e-4. The EMA default is dropped for a network with
  BatchNormalization (``--ema`` or the entry can still ask for it): Keras's ``use_ema``
  averages the weights but not BatchNorm's moving statistics, so the averaged net
  validates with statistics of other weights (10.6 % after epoch 1 on the digits for
  ``fast-resnet``, 78 % without).

No TensorFlow here: ``resolve`` runs before a run directory exists, so mistakes exit 2.
"""

from __future__ import annotations

from typing import Any

from cnntui.core.heads import BINARY_LOSSES
from cnntui.core.registry import RECIPES
from cnntui.core.train.schedules import check_schedule

REGRESSION_LOSSES = (
    "mse",
    "mae",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "log_cosh",
    "mean_squared_logarithmic_error",
    "mean_absolute_percentage_error",
)
RECIPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "article": {
        "schedule": "constant",
        "warmup": 0.0,
        "weight_decay": None,  # the optimizer's own default
        "label_smoothing": 0.0,
        "ema": False,
        "mixup": 0.0,
        "cutmix": 0.0,
    },
    "modern": {
        "optimizer": "adamw",
        "learning_rate": 2e-3,
        "schedule": "cosine",
        "warmup": 1.0,  # capped at MODERN_WARMUP_SHARE of the run
        "weight_decay": 0.05,
        "label_smoothing": 0.1,
        "ema": True,
        "mixup": 0.0,
        "cutmix": 0.0,
    },
    "finetune": {
        "optimizer": "adamw",
        "learning_rate": 2e-3,
        "schedule": "cosine",
        "warmup": 0.3,
        "weight_decay": 0.01,
        "label_smoothing": 0.1,
        "ema": False,
        "mixup": 0.0,
        "cutmix": 0.0,
    },
}
MODERN_WARMUP_SHARE = 0.1
SGD_WEIGHT_DECAY = 5e-4
SGD_MOMENTUM = 0.9
EMA_HORIZON_SHARE = 0.1  # the average spans about the last 10% of the run's steps
EMA_MOMENTUM_RANGE = (0.9, 0.999)
RECIPE_KEYS = ("schedule", "warmup", "weight_decay", "label_smoothing", "ema", "mixup", "cutmix")


def check_recipe(name: str) -> str:
    low = str(name).lower()
    if low not in RECIPES:
        raise ValueError(f"--recipe must be one of {', '.join(RECIPES)}; got {name!r}")
    return low


def resolve(cfg, entry, epochs: int) -> dict[str, Any]:
    """The recipe settings of a run, with ``recipe_sources``: setting → flag|entry|recipe.

    ``epochs`` is the run's epoch count (flag or entry). Raises ValueError for settings
    that cannot work together, before any work is done.
    """
    recipe = check_recipe(cfg.recipe or default_recipe(cfg, entry))
    defaults = RECIPE_DEFAULTS[recipe]
    hp = entry.hyperparameters
    entry_own = getattr(entry, "recipe", "article") != "article"
    out: dict[str, Any] = {"recipe": recipe}
    sources: dict[str, str] = {}

    def pick(key: str, flag: Any, from_entry: Any) -> Any:
        if flag is not None:
            sources[key] = "flag"
            return flag
        if from_entry is not None:
            sources[key] = "entry"
            return from_entry
        sources[key] = "recipe"
        return defaults.get(key)

    # The entry's optimizer and LR belong to its own recipe; under another one they are
    # the recipe's, unless the article recipe (which has none) is asked for.
    own = recipe == "article" or entry_own
    lr_flag = None if cfg.learning_rate == "auto" else cfg.learning_rate
    out["optimizer"] = str(
        pick("optimizer", cfg.optimizer, hp.optimizer if own else None) or hp.optimizer
    ).lower()
    out["learning_rate"] = float(
        pick("learning_rate", lr_flag, hp.learning_rate if own else None) or hp.learning_rate
    )
    if cfg.learning_rate == "auto":
        sources["learning_rate"] = "lr-find"
    for key in RECIPE_KEYS:
        out[key] = pick(key, getattr(cfg, key, None), getattr(hp, key, None))
    if sources["warmup"] == "recipe" and recipe == "modern":
        out["warmup"] = min(float(out["warmup"]), MODERN_WARMUP_SHARE * epochs)
    if out["weight_decay"] is None and out["optimizer"] == "sgd" and recipe == "modern":
        out["weight_decay"] = SGD_WEIGHT_DECAY
    out["schedule"] = check_schedule(out["schedule"])
    out["warmup"] = float(out["warmup"] or 0.0)
    out["label_smoothing"] = float(out["label_smoothing"] or 0.0)
    out["mixup"] = float(out["mixup"] or 0.0)
    out["cutmix"] = float(out["cutmix"] or 0.0)
    out["ema"] = bool(out["ema"])
    out["recipe_sources"] = sources
    check_backbone_options(cfg, entry, recipe)
    if recipe == "finetune":
        out["finetune"] = finetune_plan(cfg, entry, epochs).to_dict()
    check(out, cfg, entry, epochs)
    return out


FINETUNE_OPTIONS = ("freeze_epochs", "unfreeze", "lr_mult", "train_bn")


def check_backbone_options(cfg, entry, recipe: str) -> None:
    """ValueError for ``--weights`` on an entry without a backbone (or misspelt), and for
    fine-tuning options under another recipe (no Keras)."""
    from cnntui.core.weights import classify_weights

    if getattr(cfg, "weights", None) or getattr(entry, "pretrained", None) is not None:
        classify_weights(getattr(cfg, "weights", None), entry)
    given = ["--" + key.replace("_", "-") for key in FINETUNE_OPTIONS if getattr(cfg, key, None)]
    if given and recipe != "finetune":
        raise ValueError(
            f"{', '.join(given)} set how --recipe finetune trains a backbone; this run's recipe "
            f"is {recipe}: drop them or use --recipe finetune with a backbone entry"
        )


def default_recipe(cfg, entry) -> str:
    """The entry's recipe; a backbone trained from scratch (``--weights none``) gets the
    modern one (there is nothing pretrained to keep frozen)."""
    recipe = getattr(entry, "recipe", "article") or "article"
    if recipe == "finetune" and str(getattr(cfg, "weights", "") or "").lower() == "none":
        return "modern"
    return recipe


def finetune_plan(cfg, entry, epochs: int):
    """The fine-tuning plan of the request; ValueError for an entry without a backbone."""
    from cnntui.core.train.finetune import make_plan

    if getattr(entry, "pretrained", None) is None:
        raise ValueError(
            f"--recipe finetune fine-tunes a pretrained backbone; {entry.name} has none: pick "
            "a backbone entry (`cnntui zoo list --tag backbone`) or another --recipe"
        )
    plan = make_plan(cfg.freeze_epochs, cfg.unfreeze, cfg.lr_mult, cfg.train_bn)
    if plan.freeze_epochs >= epochs and cfg.freeze_epochs is None:  # a 1-epoch run: no phase 1
        plan = make_plan(0, cfg.unfreeze, cfg.lr_mult, cfg.train_bn)
    return plan


def check(rec: dict[str, Any], cfg, entry, epochs: int) -> None:
    """ValueError for settings that cannot work (each names the option and a fix)."""
    if rec["warmup"] < 0:
        raise ValueError(f"--warmup must be 0 or more epochs; got {rec['warmup']:g}")
    if rec["warmup"] and rec["warmup"] >= epochs and not getattr(cfg, "time_budget", None):
        raise ValueError(
            f"--warmup {rec['warmup']:g} epochs is not shorter than the run ({epochs} "
            f"epochs); lower --warmup or raise --epochs"
        )
    if rec["weight_decay"] is not None and rec["weight_decay"] < 0:
        raise ValueError(f"--weight-decay must be 0 or more; got {rec['weight_decay']:g}")
    if not 0.0 <= rec["label_smoothing"] < 1.0:
        raise ValueError(
            f"--label-smoothing must be in [0, 1), e.g. 0.1; got {rec['label_smoothing']:g}"
        )
    for key in ("mixup", "cutmix"):
        if rec[key] < 0:
            raise ValueError(f"--{key} is an alpha, 0 (off) or more, e.g. 0.2; got {rec[key]:g}")
    _check_combinations(rec, cfg, entry)


def _check_combinations(rec: dict[str, Any], cfg, entry) -> None:
    if rec["schedule"] == "plateau" and rec["warmup"]:
        raise ValueError(
            "--schedule plateau lowers the LR on a plateau and takes no --warmup; "
            "use cosine or onecycle for a warm-up"
        )
    if getattr(cfg, "reduce_lr", False) and rec["schedule"] not in ("constant", "plateau"):
        raise ValueError(
            f"--reduce-lr cannot change the LR of --schedule {rec['schedule']}; "
            "drop --reduce-lr or use --schedule plateau"
        )
    loss = (cfg.loss or entry.hyperparameters.loss or "").lower()
    mixing = rec["mixup"] or rec["cutmix"]
    if mixing and loss in REGRESSION_LOSSES:
        raise ValueError(
            f"--mixup/--cutmix mix class labels, but the loss {loss!r} is a regression loss; "
            "drop them or use a cross-entropy loss"
        )
    if mixing and (loss in BINARY_LOSSES or entry.num_classes == 2 and _sigmoid_entry(entry)):
        raise ValueError(
            f"--mixup/--cutmix need a softmax head; {entry.name} has a one-unit sigmoid head "
            f"(loss {loss!r}); drop them or pick a multi-class entry"
        )


def _sigmoid_entry(entry) -> bool:
    return (entry.hyperparameters.loss or "").lower() in BINARY_LOSSES


def steps_for(epochs: float, steps_per_epoch: int) -> int:
    """Optimizer steps of ``epochs`` (fractions allowed) at ``steps_per_epoch``."""
    return max(0, round(float(epochs) * steps_per_epoch))


def ema_momentum(total_steps: int) -> float:
    """EMA momentum whose horizon, 1 / (1 - m), is ``EMA_HORIZON_SHARE`` of the run.

    A fixed 0.999 would leave a short run's average mostly at the initial weights.
    """
    lo, hi = EMA_MOMENTUM_RANGE
    return round(min(hi, max(lo, 1.0 - 1.0 / (EMA_HORIZON_SHARE * max(1, total_steps)))), 6)


def make_optimizer(
    rec: dict[str, Any], learning_rate: Any, momentum: float | None = None, total_steps: int = 0
):
    """The recipe's Keras optimizer (decoupled weight decay, Nesterov SGD, EMA)."""
    import keras

    name = rec["optimizer"]
    kwargs: dict[str, Any] = {"learning_rate": learning_rate}
    if rec.get("weight_decay") is not None:
        # fine-tuning applies the decay itself, at each group's rate (train/layerwise.py)
        kwargs["weight_decay"] = 0.0 if rec.get("finetune") else float(rec["weight_decay"])
    if rec.get("ema"):
        kwargs.update(use_ema=True, ema_momentum=ema_momentum(total_steps))
    if name == "sgd":
        modern = rec.get("recipe") in ("modern", "finetune")
        mom = momentum if momentum is not None else (SGD_MOMENTUM if modern else 0.0)
        return keras.optimizers.SGD(momentum=mom, nesterov=modern and mom > 0, **kwargs)
    classes = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return classes[name](**kwargs)


def compile_model(
    entry,
    hp: dict[str, Any],
    bundle,
    mixing,
    learning_rate: Any,
    total_steps: int = 0,
    jit_compile: bool = False,
    builder_args: dict[str, Any] | None = None,
    weights: Any = None,
    steps_per_epoch: int = 0,
):
    """Build ``entry`` for ``bundle`` and compile it with the recipe in ``hp``; a backbone
    entry's backbone is filled from ``weights`` (a ``WeightsChoice``) first.

    Returns ``(model, output units, loss, label mode)``.
    """
    from cnntui.core.heads import loss_for, output_units
    from cnntui.core.train import finetune

    model = entry.build(bundle.input_shape, bundle.num_classes, **(builder_args or {}))
    finetune.prepare_backbone(model, entry, hp, weights)
    drop_default_ema(hp, model)
    units = output_units(model)
    if mixing.soft_labels and units == 1:
        raise ValueError(
            f"--mixup/--cutmix need a softmax head; {entry.name} built a one-unit "
            "sigmoid head; drop them or pick a multi-class entry"
        )
    loss, mode = make_loss(
        loss_for(hp["loss"], units), units, hp["label_smoothing"], mixing.soft_labels
    )
    momentum = getattr(entry.hyperparameters, "momentum", None)
    optimizer = make_optimizer(hp, learning_rate, momentum, total_steps)
    model.compile(
        optimizer=finetune.group_rates(optimizer, model, hp, steps_per_epoch),
        loss=loss,
        metrics=hp["metrics"],
        jit_compile=keras_jit_compile(jit_compile),
    )
    return model, units, loss, mode


def keras_jit_compile(requested: bool) -> bool | str:
    """``compile(jit_compile=…)``: ``--jit-compile`` is XLA on TensorFlow (a graph either
    way); on JAX a step is compiled or eager, so Keras's ``auto`` (jit) unless asked."""
    from cnntui.core import backend

    if backend.is_tensorflow():
        return requested
    return True if requested else "auto"


def has_batchnorm(model) -> bool:
    """Whether ``model`` (or a model nested in it) has a BatchNormalization layer."""
    import keras

    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            return True
        stack.extend(getattr(layer, "layers", []))
    return False


def drop_default_ema(hp: dict[str, Any], model) -> None:
    """Turn off an EMA that only the recipe's default asked for when ``model`` has
    BatchNorm (see the module docstring); ``hp["ema_dropped"]`` records why."""
    source = (hp.get("recipe_sources") or {}).get("ema")
    if hp.get("ema") and source == "recipe" and has_batchnorm(model):
        hp["ema"] = False
        hp["ema_dropped"] = "batchnorm"


def make_loss(loss: str, units: int, label_smoothing: float, soft_labels: bool):
    """The loss: a name, or a Keras loss object when label smoothing or mixing needs one.

    Returns ``(loss, label_mode)``; smoothing and mixing need one-hot (categorical) labels.
    """
    from cnntui.core.heads import label_mode_for

    if units == 1 and label_smoothing:
        import keras

        return keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing), "binary"
    if units > 1 and (label_smoothing or soft_labels):
        import keras

        if loss not in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
            return loss, "categorical"
        return (
            keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
            "categorical",
        )
    return loss, label_mode_for(loss, units)


def summary(hp: dict[str, Any]) -> str:
    """One line for people: the recipe and the settings that make it, e.g. for ``begin``."""
    parts = [f"{hp.get('optimizer')} lr {hp.get('learning_rate'):.3g}"]
    if hp.get("lr_auto"):
        parts[-1] += " (lr-find valley)"
    sched = hp.get("schedule", "constant")
    warm = hp.get("warmup") or 0
    parts.append(sched + (f" after {warm:g}-epoch warm-up" if warm else ""))
    if hp.get("weight_decay") is not None:
        parts.append(f"weight decay {hp['weight_decay']:g}")
    if hp.get("label_smoothing"):
        parts.append(f"label smoothing {hp['label_smoothing']:g}")
    if hp.get("ema") or hp.get("ema_dropped"):
        parts.append("EMA weights" if hp.get("ema") else "no EMA (BatchNorm net)")
    for key in ("mixup", "cutmix", "random_erasing"):
        if hp.get(key):
            parts.append(f"{key.replace('_', ' ')} {hp[key]:g}")
    if hp.get("randaugment"):
        n, m = hp["randaugment"]
        parts.append(f"randaugment {n},{m}")
    parts += run_parts(hp)
    text = f"recipe {hp.get('recipe', 'article')}: " + ", ".join(parts)
    return text + finetune_summary(hp)


def run_parts(hp: dict[str, Any]) -> list[str]:
    """The summary's class weights, time budget and early stopping (and why it is off)."""
    parts = []
    if hp.get("class_weight"):
        parts.append(f"class weights {'auto' if hp['class_weight'] == 'auto' else 'file'}")
    if hp.get("time_budget_s"):
        from cnntui.core.train.budget import format_duration

        parts.append(f"time budget {format_duration(hp['time_budget_s'])}")
    if hp.get("patience"):
        parts.append(f"early stopping after {hp['patience']} epochs without improvement")
    elif "patience" in hp:
        fitted = hp.get("schedule") in ("onecycle", "cosine") or hp.get("time_budget_s")
        why = " (the schedule is fitted to the run; --patience N turns it on)" if fitted else ""
        parts.append("no early stopping" + why)
    return parts


def finetune_summary(hp: dict[str, Any]) -> str:
    """The weights a backbone starts from and the fine-tuning plan, as lines (or "")."""
    from cnntui.core.train.finetune import FinetunePlan
    from cnntui.core.weights import WeightsChoice

    out = ""
    if hp.get("weights"):
        out += f"\nweights: {WeightsChoice(**hp['weights']).describe()}"
    if hp.get("finetune"):
        out += f"\n{FinetunePlan(**hp['finetune']).describe()}"
    return out
