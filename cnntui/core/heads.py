"""How a model's output layer decides its loss and label encoding.

Zoo builders make a one-unit sigmoid head for two-class binary entries and a softmax head
of ``num_classes`` units otherwise. Training, evaluation and prediction all ask here how
labels must be encoded and what loss fits, so they never disagree.
"""

from __future__ import annotations

SPARSE_LOSSES = ("sparse_categorical_crossentropy",)
BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy")


def output_units(model) -> int:
    """Units of the model's (single) output."""
    shape = model.output_shape
    if isinstance(shape, list):
        shape = shape[0]
    return int(shape[-1])


def label_mode_for(loss: str, units: int) -> str:
    """``binary`` for a one-unit head, ``int`` for sparse losses, else ``categorical``."""
    if units == 1:
        return "binary"
    if loss in SPARSE_LOSSES:
        return "int"
    return "categorical"


def loss_for(loss: str, units: int) -> str:
    """The entry's loss, adapted to the head: binary CE on a softmax head becomes categorical."""
    if units > 1 and loss in BINARY_LOSSES:
        return "categorical_crossentropy"
    if units == 1 and loss in ("categorical_crossentropy", *SPARSE_LOSSES):
        return "binary_crossentropy"
    return loss


def is_binary_head(units: int) -> bool:
    """A one-unit sigmoid head: probability of class 1, class 0 is its complement."""
    return units == 1
