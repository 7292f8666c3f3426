"""The two phases of fine-tuning a pretrained backbone (``--recipe finetune``), as the Keras
transfer-learning guide and fastai's ``fine_tune`` do it.

Phase 1 (``freeze_epochs``): the backbone is frozen and only cnntui's head learns. Phase 2:
the backbone's top ``unfreeze`` blocks (``all``: every one) learn too, at ``lr_mult`` times
the head's rate (discriminative learning rates); BatchNormalization stays frozen, in
inference mode, unless ``train_bn`` (a small batch's statistics would wreck the pretrained
ones). Blocks are counted from the top by the entry's ``Pretrained.block_pattern``. No
TensorFlow at import: the plan is checked before a run exists.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from cnntui.core.errors import ConfigError

DEFAULT_FREEZE_EPOCHS = 1
DEFAULT_LR_MULT = 0.3  # docs/training.md, "Fine-tuning": measured, and the anchors' range


@dataclass(frozen=True)
class FinetunePlan:
    """How a run fine-tunes: epochs with the backbone frozen, what is unfrozen after them
    (``"all"`` or a number of blocks from the top), the backbone's LR multiplier, and
    whether BatchNormalization trains."""

    freeze_epochs: int = DEFAULT_FREEZE_EPOCHS
    unfreeze: str | int = "all"
    lr_mult: float = DEFAULT_LR_MULT
    train_bn: bool = False

    def phase(self, epoch: int) -> int:
        """1 while the backbone is frozen (epochs counted from 0), else 2."""
        return 1 if epoch < self.freeze_epochs else 2

    @property
    def unfrozen(self) -> str:
        """What phase 2 trains of the backbone, for people, at its rate."""
        what = "every block" if self.unfreeze == "all" else f"the top {self.unfreeze} blocks"
        return f"{what} at {self.lr_mult:g}x the head's LR"

    def describe(self) -> str:
        bn = "BatchNorm trains" if self.train_bn else "BatchNorm frozen"
        return (
            f"fine-tune: head only for {self.freeze_epochs} epoch(s), then {self.unfrozen} ({bn})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_unfreeze(value: str | int | None) -> str | int:
    """``--unfreeze``: ``all`` or a positive number of blocks."""
    if value is None or str(value).strip().lower() == "all":
        return "all"
    try:
        blocks = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"--unfreeze must be all or a number of blocks; got {value!r}") from None
    if blocks < 1:
        raise ConfigError(f"--unfreeze must be all or at least 1 block; got {blocks}")
    return blocks


def make_plan(
    freeze_epochs: int | None, unfreeze: str | int | None, lr_mult: float | None, train_bn: bool
) -> FinetunePlan:
    """The plan of the options given (``None``: the default), checked."""
    plan = FinetunePlan(
        freeze_epochs=DEFAULT_FREEZE_EPOCHS if freeze_epochs is None else int(freeze_epochs),
        unfreeze=parse_unfreeze(unfreeze),
        lr_mult=DEFAULT_LR_MULT if lr_mult is None else float(lr_mult),
        train_bn=bool(train_bn),
    )
    if plan.freeze_epochs < 0:
        raise ConfigError(f"--freeze-epochs must be 0 or more; got {plan.freeze_epochs}")
    if not 0.0 < plan.lr_mult <= 1.0:
        raise ConfigError(f"--lr-mult must be in (0, 1]; got {plan.lr_mult:g}")
    return plan


def block_starts(layer_names: list[str], pattern: str) -> list[int]:
    """Index of each block's first layer, in order (``pattern``'s first group names it)."""
    starts, last = [], None
    for i, name in enumerate(layer_names):
        found = re.match(pattern, name)
        if found and found.group(1) != last:
            starts.append(i)
            last = found.group(1)
    return starts


def first_trained_layer(layer_names: list[str], pattern: str, unfreeze: str | int) -> int:
    """The index from which phase 2 trains the backbone's layers."""
    if unfreeze == "all":
        return 0
    starts = block_starts(layer_names, pattern)
    if unfreeze > len(starts):
        raise ConfigError(
            f"--unfreeze {unfreeze}: this backbone has {len(starts)} blocks; give at most "
            f"{len(starts)}, or all"
        )
    return starts[-int(unfreeze)]


def set_trainable(model: Any, plan: FinetunePlan, pattern: str) -> Any:
    """Make ``model``'s backbone train as ``plan`` says: the top ``unfreeze`` blocks (and the
    layers after them), BatchNorm frozen unless ``train_bn``; the rest stays frozen for the
    whole run. Phase 1 (:func:`group_rates`) holds the trainable part still at first.
    Returns the backbone; compile the model after this (Keras reads ``trainable`` then)."""
    from keras import layers

    from cnntui.core.weights import find_backbone

    backbone = find_backbone(model)
    backbone.trainable = True
    start = first_trained_layer([layer.name for layer in backbone.layers], pattern, plan.unfreeze)
    for i, layer in enumerate(backbone.layers):  # each one: a layer keeps its own flag
        frozen_bn = isinstance(layer, layers.BatchNormalization) and not plan.train_bn
        layer.trainable = not (i < start or frozen_bn)
    return backbone


def plan_of(hp: dict[str, Any]) -> FinetunePlan | None:
    """The run's fine-tuning plan (``hp["finetune"]``), or ``None``."""
    return FinetunePlan(**hp["finetune"]) if hp.get("finetune") else None


def prepare_backbone(model: Any, entry: Any, hp: dict[str, Any], weights: Any) -> None:
    """Fill a backbone entry's backbone from ``weights`` and, fine-tuning, set what trains."""
    if getattr(entry, "pretrained", None) is None:
        return
    from cnntui.core.weights import load_backbone_weights

    if weights is not None:
        load_backbone_weights(model, weights)
    plan = plan_of(hp)
    if plan is not None:
        set_trainable(model, plan, entry.pretrained.block_pattern)


def group_rates(optimizer: Any, model: Any, hp: dict[str, Any], steps_per_epoch: int) -> Any:
    """``optimizer`` with the backbone's own rate, still for ``freeze_epochs`` epochs, and
    the weight decay at each group's rate (fine-tuning only; else as it is)."""
    plan = plan_of(hp)
    if plan is None:
        return optimizer
    from cnntui.core.train.layerwise import use_group_rates
    from cnntui.core.weights import find_backbone

    return use_group_rates(
        optimizer,
        find_backbone(model).trainable_variables,
        plan.lr_mult,
        frozen_steps=plan.freeze_epochs * max(1, steps_per_epoch),
        weight_decay=hp.get("weight_decay") or None,
    )


def check_request(cfg: Any, entry: Any, hp: dict[str, Any]) -> Any:
    """Before a run exists: a backbone entry's weights resolved (downloaded into Keras's
    cache if need be) and proven to fit, and ``--unfreeze`` within the backbone; returns
    the ``WeightsChoice`` (imports Keras). A mistake raises a ``CnntuiError`` (exit 2)."""
    from cnntui.core.weights import check_weights

    shape = tuple(cfg.input_shape or entry.pretrained.native_input)
    choice, names = check_weights(cfg.weights, entry, shape, cfg.builder_args)
    plan = plan_of(hp)
    if plan is not None:
        first_trained_layer(names, entry.pretrained.block_pattern, plan.unfreeze)
    return choice
