"""Search spaces: ``lr=1e-4..1e-2:log,batch_size=32|64|128`` or a TOML/YAML file.

A space maps a parameter name to a range (``LOW..HIGH``, ``:log`` for a log scale,
``:int`` for integers) or a list of choices (``a|b|c``). Names are ``TrainConfig``
fields (``learning_rate`` — alias ``lr`` —, ``batch_size``, ``optimizer``, recipe options
such as ``weight_decay``) or the zoo entry's builder parameters (``width``, ``depth``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cnntui.core.tune.errors import TuneError

ALIASES = {"lr": "learning_rate", "bs": "batch_size"}


@dataclass(frozen=True)
class Param:
    """One searched parameter: a float/int range or a list of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial) -> Any:
        """Ask an Optuna trial for a value of this parameter."""
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def spec(self) -> str:
        """The parameter in the ``--space`` syntax (canonical, for comparing studies)."""
        if self.choices:
            return f"{self.name}=" + "|".join(str(c) for c in self.choices)
        flags = (":log" if self.log else "") + (":int" if self.integer else "")
        return f"{self.name}={_num(self.low)}..{_num(self.high)}{flags}"


@dataclass(frozen=True)
class Space:
    """An ordered set of parameters."""

    params: tuple[Param, ...]

    def suggest(self, trial) -> dict[str, Any]:
        return {p.name: p.suggest(trial) for p in self.params}

    def spec(self) -> str:
        return ",".join(p.spec() for p in self.params)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def scalar(text: str) -> Any:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def parse_param(name: str, spec: Any) -> Param:
    """One parameter from ``"1e-4..1e-2:log"``, ``"32|64"``, a list, or a table."""
    name = ALIASES.get(name.strip(), name.strip())
    if not name:
        raise TuneError("a search-space entry has no name; write NAME=LOW..HIGH or NAME=A|B")
    if isinstance(spec, list | tuple):
        return _checked(Param(name, choices=tuple(spec)))
    if isinstance(spec, dict):
        return _checked(_from_table(name, spec))
    text = str(spec).strip()
    if ".." in text:
        return _checked(_from_range(name, text))
    if "|" in text:
        return _checked(Param(name, choices=tuple(scalar(c) for c in text.split("|"))))
    if not text:
        raise TuneError(f"search-space entry {name!r} has no value; e.g. {name}=A|B or LOW..HIGH")
    return Param(name, choices=(scalar(text),))  # one value: fixed in every trial


def _from_table(name: str, spec: dict) -> Param:
    if "choices" in spec:
        return Param(name, choices=tuple(spec["choices"]))
    try:
        return Param(
            name,
            low=float(spec["low"]),
            high=float(spec["high"]),
            log=bool(spec.get("log", False)),
            integer=bool(spec.get("int", spec.get("integer", False))),
        )
    except (KeyError, TypeError, ValueError):
        raise TuneError(
            f"search-space entry {name!r}: a table needs low and high (and optionally "
            f"log, int) or choices; got {spec!r}"
        ) from None


def _from_range(name: str, text: str) -> Param:
    body, *flags = text.split(":")
    low_s, _, high_s = body.partition("..")
    try:
        low, high = float(low_s), float(high_s)
    except ValueError:
        raise TuneError(
            f"search-space entry {name}={text!r}: LOW..HIGH must be numbers, e.g. lr=1e-4..1e-2:log"
        ) from None
    unknown = [f for f in flags if f not in ("log", "int")]
    if unknown:
        raise TuneError(
            f"search-space entry {name}={text!r}: unknown flag {unknown[0]!r} "
            "(use :log and/or :int)"
        )
    return Param(name, low=low, high=high, log="log" in flags, integer="int" in flags)


def _checked(p: Param) -> Param:
    if p.choices:
        if len(p.choices) < 1 or any(c == "" for c in p.choices):
            raise TuneError(f"search-space entry {p.name!r} has an empty choice")
        return p
    if not (math.isfinite(p.low) and math.isfinite(p.high)) or p.low >= p.high:
        raise TuneError(
            f"search-space entry {p.name!r}: LOW must be below HIGH; "
            f"got {_num(p.low)}..{_num(p.high)}"
        )
    if p.log and p.low <= 0:
        raise TuneError(f"search-space entry {p.name!r}: a :log range must be above 0")
    return p


def parse_space(text: str) -> Space:
    """``--space`` text or the path of a ``.toml``/``.yaml``/``.json`` file."""
    path = Path(text).expanduser()
    if path.suffix.lower() in (".toml", ".yaml", ".yml", ".json") or path.is_file():
        return _space_file(path)
    params = []
    for item in _split_top(text):
        name, sep, spec = item.partition("=")
        if not sep:
            raise TuneError(f"search-space entry {item!r} has no '='; write e.g. lr=1e-4..1e-2:log")
        params.append(parse_param(name, spec))
    return _unique(params)


def _split_top(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _space_file(path: Path) -> Space:
    if not path.is_file():
        raise TuneError(f"search-space file {path} does not exist")
    raw = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(raw)
        elif path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            import yaml

            data = yaml.safe_load(raw)
    except Exception as exc:  # noqa: BLE001 - any parser's error becomes one clear line
        raise TuneError(f"search-space file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise TuneError(f"search-space file {path} must map parameter names to ranges")
    return _unique([parse_param(str(k), v) for k, v in data.items()])


def _unique(params: list[Param]) -> Space:
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TuneError(f"search space names {', '.join(dupes)} more than once")
    if not params:
        raise TuneError("the search space is empty; e.g. --space 'lr=1e-4..1e-2:log'")
    return Space(tuple(params))


def train_fields() -> set[str]:
    """The ``TrainConfig`` fields a space may set."""
    from cnntui.core.train.config import TrainConfig

    skip = {"model", "argv", "runs_dir", "zoo", "name", "backend"}  # backend: the process's
    return {f.name for f in fields(TrainConfig)} - skip


def builder_params(entry) -> dict[str, Any]:
    """The entry's builder keyword parameters beyond input shape and class count."""
    getter = getattr(entry, "builder_params", None)
    if callable(getter):
        return dict(getter())
    import inspect

    sig = inspect.signature(entry.builder)
    return {
        n: p.default
        for n, p in sig.parameters.items()
        if n not in ("input_shape", "num_classes") and p.default is not inspect.Parameter.empty
    }


def check_space(space: Space, entry) -> None:
    """Every name must be a training option or a builder parameter of ``entry``."""
    allowed = train_fields() | set(builder_params(entry))
    unknown = [n for n in space.names if n not in allowed]
    if unknown:
        raise TuneError(
            f"search space: {', '.join(unknown)} is not a training option or a parameter "
            f"of {entry.name}; choose from {', '.join(sorted(allowed))}"
        )


def default_space(entry) -> Space:
    """A sensible space around the entry's own defaults."""
    hp = entry.hyperparameters
    lr = float(hp.learning_rate)
    sizes = sorted({32, 64, 128, int(hp.batch_size)})
    params = [
        Param("learning_rate", low=lr / 10, high=lr * 10, log=True),
        Param("batch_size", choices=tuple(sizes)),
    ]
    available = train_fields()
    if "weight_decay" in available:
        params.append(Param("weight_decay", low=1e-5, high=1e-2, log=True))
    if "label_smoothing" in available:
        params.append(Param("label_smoothing", low=0.0, high=0.2))
    if "mixup" in available:
        params.append(Param("mixup", choices=(0.0, 0.2, 0.4)))
    if getattr(entry, "pretrained", None) is not None:  # a backbone: its fine-tuning plan
        params.append(Param("freeze_epochs", choices=(0, 1, 2)))
        params.append(Param("lr_mult", low=0.03, high=1.0, log=True))
    width = builder_params(entry).get("width")
    if isinstance(width, int) and width > 0:
        params.append(Param("width", choices=tuple(sorted({max(8, width // 2), width, width * 2}))))
    return Space(tuple(params))
