"""The one builder of training requests: option values, by ``TrainConfig`` field name, as a
:class:`~cnntui.core.train.config.TrainConfig`. ``cnntui train``, ``lr-find`` and ``tune``
pass their parsed options, the TUI's Train form its fields (text as typed); each value is
checked and converted here, so a face never parses an option of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from cnntui.core.errors import ConfigError
from cnntui.core.registry import parse_input_shape
from cnntui.core.train.config import TrainConfig, split_names

BUILDER_ARGS = ("width", "depth", "max_side", "l1", "l2")  # passed to the entry's builder
FIELDS = frozenset(f.name for f in fields(TrainConfig))
NUMBERS = {
    f.name: (int if f.type.startswith("int") else float)
    for f in fields(TrainConfig)
    if str(f.type).split(" ")[0] in ("int", "float") and "str" not in str(f.type)
}  # the number fields, read from text as typed (a form's, a setting's)


def parse_learning_rate(value: str | float) -> float | str:
    """``--lr``: a positive number, or ``auto`` (an LR sweep first)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        rate = float(value)
    except ValueError:
        raise ConfigError(f"--lr must be a number (e.g. 3e-3) or auto; got {value!r}") from None
    if not rate > 0:
        raise ConfigError(f"--lr must be positive; got {value!r}")
    return rate


def _input_shape(value: Any) -> tuple[int, int, int]:
    if not isinstance(value, str):
        return tuple(int(v) for v in value)  # type: ignore[return-value]
    try:
        return parse_input_shape(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _number(name: str, value: Any) -> Any:
    kind = NUMBERS.get(name)
    if kind is None or not isinstance(value, str):
        return value
    try:
        return kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        flag = "--" + name.replace("_", "-")
        raise ConfigError(f"{flag} must be {what}; got {value.strip()!r}") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def config_from_values(values: Mapping[str, Any], argv: list[str] | None = None) -> TrainConfig:
    """The request ``values`` make. Keys are ``TrainConfig`` fields or builder arguments
    (:data:`BUILDER_ARGS`); ``None`` or an empty text means the default. Other keys (a
    face's own options) are ignored. Not validated: :meth:`TrainConfig.validate` does that."""
    given = {k: v for k, v in values.items() if not _blank(v)}
    kwargs = {k: _number(k, v) for k, v in given.items() if k in FIELDS}
    kwargs["augment"] = split_names(kwargs.get("augment", []))
    kwargs["zoo"] = list(kwargs.get("zoo", []))
    if "input_shape" in kwargs:
        kwargs["input_shape"] = _input_shape(kwargs["input_shape"])
    if "learning_rate" in kwargs:
        kwargs["learning_rate"] = parse_learning_rate(kwargs["learning_rate"])
    builder = dict(kwargs.pop("builder_args", {}) or {})
    builder.update({k: given[k] for k in BUILDER_ARGS if k in given})
    if "model" not in kwargs:
        raise ConfigError("give a MODEL to train (see `cnntui zoo list`)")
    return TrainConfig(**kwargs, builder_args=builder, argv=list(argv or []))
