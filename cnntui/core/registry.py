"""The zoo registry: architecture builders registered by name, with their metadata.

Zoo files are plain Python files that call :func:`register_model`. They are loaded by
path, so the bundled ``zoo/`` folder and a user's own folders are discovered the same
way. A file that fails to load is recorded in :func:`load_errors`, never fatal.

Builders must import Keras inside their body: listing the zoo never imports TensorFlow.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.util
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnntui.core.errors import CnntuiError

ZOO_PATH_ENV = "CNNTUI_ZOO_PATH"
RECIPES = ("article", "modern", "finetune")
"""Training recipes an entry can default to: its article's own setup, cnntui's modern one, or
fine-tuning a pretrained backbone (the backbone entries')."""
_BUILDER_FIXED = ("input_shape", "num_classes")


@dataclass(frozen=True)
class Reported:
    """What the reproduced article reported, and the protocol it measured it under.

    ``metric``/``value``: its headline figure; ``figures``: every other number it gives
    (``{"pearson": 0.42, "train_accuracy": 0.796}``). The protocol, read by ``cnntui
    reproduce``: ``data``, the cnntui source the article trained on (``"mnist"``), or
    ``""`` when the user names a folder (``needs`` says which); ``split``: ``"test"`` when
    it trained on the full training set and validated on the test set; ``rescale``: its
    pixel scaling (``"none"``: raw 0-255, ``"unit"``: /255); ``patience``: its early
    stopping (0: none); ``positive_class``: the class its two-class metrics call 1.
    ``not_stated``: what the article leaves out (``"batch size"``), filled in by the entry's
    documented ``choices``.
    """

    dataset: str = ""
    metric: str = ""
    value: float | None = None
    epochs: int | None = None
    params: int | None = None
    note: str = ""
    figures: dict[str, float] = field(default_factory=dict)
    data: str = ""
    needs: str = ""
    split: str = "val"
    rescale: str = "unit"
    patience: int = 0
    positive_class: str = ""
    not_stated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hyperparameters:
    """Default training settings of an entry.

    The recipe fields (``schedule`` … ``cutmix``) default to ``None``: "the recipe's
    default", decided by the entry's recipe (``article`` or ``modern``) at training time.
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    loss: str = "sparse_categorical_crossentropy"
    batch_size: int = 32
    epochs: int = 10
    metrics: tuple[str, ...] = ("accuracy",)
    schedule: str | None = None
    warmup: float | None = None  # epochs, fractions allowed
    weight_decay: float | None = None
    label_smoothing: float | None = None
    ema: bool | None = None
    mixup: float | None = None
    cutmix: float | None = None


@dataclass(frozen=True)
class Pretrained:
    """What a backbone entry's pretrained weights are and expect (``keras.applications``).

    ``application``: the ``keras.applications`` builder; ``top1`` and ``size_mb``: the
    ImageNet top-1 accuracy and weights size Keras documents for it (``source`` says
    where); ``native_input``: the size its weights were trained at; ``preprocessing``: what
    the weights expect, done by layers inside the model; ``min_side``: the smallest input
    side it takes (smaller inputs are resized up inside the model); ``block_pattern``: a
    regular expression whose first group names the backbone block a layer belongs to
    (``--unfreeze N`` counts these blocks from the top).
    """

    application: str
    top1: float
    params_m: float
    size_mb: float | None = None
    source: str = "keras.io/api/applications"
    native_input: tuple[int, int, int] = (224, 224, 3)
    preprocessing: str = ""
    min_side: int = 32
    block_pattern: str = ""


@dataclass
class ModelEntry:
    """A registered architecture: a builder plus everything known about it."""

    name: str
    builder: Callable[..., Any]
    title: str
    description: str = ""
    reference: str = ""
    reference_url: str = ""
    reported: Reported = field(default_factory=Reported)
    input_shape: tuple[int, int, int] = (28, 28, 1)
    num_classes: int = 10
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    tags: tuple[str, ...] = ()
    choices: str = ""
    source_file: str = ""
    recipe: str = "article"
    check_args: Callable[..., None] | None = None  # the builder's own value checks, no Keras
    pretrained: Pretrained | None = None  # a backbone entry's weights (``--weights``)

    def builder_params(self) -> dict[str, Any]:
        """The builder's own keyword parameters (e.g. ``width``, ``depth``) with defaults.

        A parameter without a default maps to ``None``.
        """
        out: dict[str, Any] = {}
        for p in _builder_signature(self.builder).parameters.values():
            if p.name in _BUILDER_FIXED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.kind is p.POSITIONAL_ONLY:
                continue
            out[p.name] = None if p.default is p.empty else p.default
        return out

    def check_builder_args(self, builder_args: dict[str, Any]) -> None:
        """Raise ValueError for a name the builder does not take, a value of a wrong type, or
        a value the entry's ``check_args`` refuses (all without Keras)."""
        params = self.builder_params()
        takes_any = any(
            p.kind is p.VAR_KEYWORD for p in _builder_signature(self.builder).parameters.values()
        )
        for key, value in builder_args.items():
            if key in params:
                self._check_type(key, value, params[key])
            elif not takes_any:
                accepted = ", ".join(params) or "none"
                raise ValueError(
                    f"{self.name} has no builder parameter {key!r}; it accepts: {accepted}"
                )
        if self.check_args is not None:
            merged = {k: v for k, v in {**params, **builder_args}.items() if k in params}
            try:
                self.check_args(**merged)
            except ValueError as exc:
                raise ValueError(f"{self.name}: {exc}") from None

    def _check_type(self, key: str, value: Any, default: Any) -> None:
        if isinstance(default, bool) or default is None:
            ok = default is None or isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = True
        if not ok:
            raise ValueError(
                f"{self.name}: builder parameter {key} must be of type "
                f"{type(default).__name__} (default {default!r}); got {value!r}"
            )

    def build(
        self,
        input_shape: Iterable[int] | None = None,
        num_classes: int | None = None,
        **builder_args: Any,
    ):
        """Build a fresh ``keras.Model`` (imports TensorFlow).

        ``builder_args`` are the builder's keyword parameters (see :meth:`builder_params`);
        an unknown name raises ValueError listing the accepted ones.
        """
        shape = tuple(input_shape) if input_shape is not None else self.input_shape
        classes = num_classes if num_classes is not None else self.num_classes
        validate_input_shape(shape)
        if classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes; got {classes}")
        self.check_builder_args(builder_args)
        from cnntui.core import jax_ops

        jax_ops.install()  # before the model is traced: faster ops for Keras on JAX on a CPU
        try:
            return self.builder(input_shape=shape, num_classes=classes, **builder_args)
        except (ValueError, TypeError) as exc:
            lines = [
                ln.strip()
                for ln in str(exc).splitlines()
                if ln.strip() and not ln.strip().startswith(("Exception encountered", "Arguments"))
            ]
            first = lines[0].rstrip(".") if lines else type(exc).__name__
            first = re.sub(r"\x1b\[[0-9;]*m", "", first)
            args = "".join(f", {k}={v!r}" for k, v in builder_args.items())
            hint = "Check the builder parameters or try" if builder_args else "Try"
            raise ValueError(
                f"{self.name} cannot be built for input {'x'.join(map(str, shape))} with "
                f"{classes} classes{args}: {first.rstrip('.')}. {hint} a larger --input-shape "
                f"(its default is {','.join(map(str, self.input_shape))})."
            ) from exc

    def source(self) -> str:
        """The builder's Python source."""
        try:
            return inspect.getsource(self.builder)
        except (OSError, TypeError):
            return ""

    def file_source(self) -> str:
        """The whole source file that defines this entry."""
        try:
            return Path(self.source_file).read_text(encoding="utf-8")
        except OSError:
            return self.source()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (no builder)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "reference": self.reference,
            "reference_url": self.reference_url,
            "reported": asdict(self.reported),
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "hyperparameters": {
                **asdict(self.hyperparameters),
                "metrics": list(self.hyperparameters.metrics),
            },
            "tags": list(self.tags),
            "choices": self.choices,
            "source_file": self.source_file,
            "recipe": self.recipe,
            "builder_params": self.builder_params(),
            "pretrained": asdict(self.pretrained) if self.pretrained else None,
        }


def _builder_signature(builder: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(builder)
    except (TypeError, ValueError):
        return inspect.Signature()


@dataclass(frozen=True)
class LoadError:
    """A zoo file that could not be loaded."""

    path: str
    error: str


_REGISTRY: dict[str, ModelEntry] = {}
_ERRORS: list[LoadError] = []
_LOADED_DIRS: set[str] = set()
_CURRENT_FILE: list[str] = []


def register_model(
    name: str,
    *,
    title: str,
    description: str = "",
    reference: str = "",
    reference_url: str = "",
    reported: Reported | None = None,
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    hyperparameters: Hyperparameters | None = None,
    tags: Iterable[str] = (),
    choices: str = "",
    recipe: str = "article",
    check_args: Callable[..., None] | None = None,
    pretrained: Pretrained | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``builder(input_shape, num_classes, **kw) -> keras.Model``.

    ``recipe`` is the training recipe the entry defaults to: ``"article"`` (its source's
    own setup) or ``"modern"`` (cnntui's schedule, warm-up, label smoothing, EMA…).
    Keyword parameters of the builder (``width=32``…) are its builder parameters.
    ``check_args(**params)`` raises ValueError for values the builder refuses; cnntui calls
    it, without Keras, before a run starts and before every :meth:`ModelEntry.build`.
    """
    if recipe not in RECIPES:
        raise ValueError(
            f"register_model({name!r}): recipe must be one of {', '.join(RECIPES)}; got {recipe!r}"
        )

    def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
        source_file = _CURRENT_FILE[-1] if _CURRENT_FILE else inspect.getsourcefile(builder) or ""
        entry = ModelEntry(
            name=name,
            builder=builder,
            title=title,
            description=description or (inspect.getdoc(builder) or ""),
            reference=reference,
            reference_url=reference_url,
            reported=reported or Reported(),
            input_shape=tuple(input_shape),
            num_classes=num_classes,
            hyperparameters=hyperparameters or Hyperparameters(),
            tags=tuple(tags),
            choices=choices,
            source_file=str(source_file),
            recipe=recipe,
            check_args=check_args,
            pretrained=pretrained,
        )
        previous = _REGISTRY.get(name)
        if previous is not None and previous.source_file != entry.source_file:
            _ERRORS.append(
                LoadError(
                    entry.source_file,
                    f"model name {name!r} is already defined in {previous.source_file}; "
                    "this definition replaces it",
                )
            )
        _REGISTRY[name] = entry
        return builder

    return decorate


def builtin_zoo_dir() -> Path:
    """The bundled zoo: ``cnntui/zoo`` in a wheel, top-level ``zoo/`` in a checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "zoo"
    if installed.is_dir():
        return installed
    return package_dir.parent / "zoo"


def user_zoo_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """User zoo folders from ``extra`` and the ``CNNTUI_ZOO_PATH`` environment variable."""
    dirs = [Path(p).expanduser() for p in extra]
    env = os.environ.get(ZOO_PATH_ENV, "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return dirs


def load_zoo(extra_dirs: Iterable[str | Path] = ()) -> None:
    """Load the bundled zoo and every user folder (each folder once)."""
    for directory in [builtin_zoo_dir(), *user_zoo_dirs(extra_dirs)]:
        _load_dir(directory)


def _load_dir(directory: Path) -> None:
    key = str(directory.resolve())
    if key in _LOADED_DIRS:
        return
    _LOADED_DIRS.add(key)
    if not directory.exists():
        _ERRORS.append(LoadError(str(directory), "zoo folder does not exist"))
        return
    files = [directory] if directory.is_file() else sorted(directory.glob("*.py"))
    for path in files:
        if path.name.startswith("_"):
            continue
        load_zoo_file(path)


def load_zoo_file(path: str | Path) -> bool:
    """Import one zoo file by path; record and return False if it fails."""
    path = Path(path).resolve()
    module_name = f"cnntui_zoo_{abs(hash(str(path))):x}_{path.stem}"
    _CURRENT_FILE.append(str(path))
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a broken user file must not stop the rest
        sys.modules.pop(module_name, None)
        frames = traceback.extract_tb(exc.__traceback__)
        line = next((f.lineno for f in reversed(frames) if f.filename == str(path)), None)
        where = f" (line {line})" if line else ""
        _ERRORS.append(LoadError(str(path), f"{type(exc).__name__}: {exc}{where}"))
        return False
    finally:
        _CURRENT_FILE.pop()
    return True


def _ensure_loaded() -> None:
    if not _LOADED_DIRS:
        load_zoo()


def list_models(
    pattern: str | Iterable[str] | None = None, tag: str | Iterable[str] | None = None
) -> list[ModelEntry]:
    """Entries whose name matches any fnmatch ``pattern`` and carries every ``tag``."""
    _ensure_loaded()
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or [])
    tags = [tag] if isinstance(tag, str) else list(tag or [])
    out = []
    for name in sorted(_REGISTRY):
        entry = _REGISTRY[name]
        if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        if any(t not in entry.tags for t in tags):
            continue
        out.append(entry)
    return out


class UnknownModelError(CnntuiError, KeyError):
    """No zoo entry has that name."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no zoo entry named {name!r}.{hint} See `cnntui zoo list`.")


def get_model(name: str) -> ModelEntry:
    """The entry called ``name``; raises :class:`UnknownModelError` with suggestions."""
    _ensure_loaded()
    if name in _REGISTRY:
        return _REGISTRY[name]
    names = list(_REGISTRY)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    close += [n for n in names if name and name.lower() in n.lower() and n not in close][:3]
    raise UnknownModelError(name, close[:5])


def load_errors() -> list[LoadError]:
    """Zoo files (or folders) that could not be loaded so far."""
    _ensure_loaded()
    return list(_ERRORS)


def all_tags() -> list[str]:
    """Every tag used by a registered entry."""
    _ensure_loaded()
    return sorted({t for e in _REGISTRY.values() for t in e.tags})


def validate_input_shape(shape: Iterable[int]) -> tuple[int, int, int]:
    """Check an (H, W, C) image shape; raise ValueError saying what was received."""
    shape = tuple(shape)
    if len(shape) != 3 or not all(isinstance(d, int) for d in shape):
        raise ValueError(f"input shape must be three integers H,W,C; got {shape!r}")
    h, w, c = shape
    if h < 1 or w < 1:
        raise ValueError(f"input height and width must be positive; got {shape!r}")
    if c not in (1, 3, 4):
        raise ValueError(f"input channels must be 1 (grayscale), 3 (RGB) or 4; got {c}")
    return shape


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """Parse ``"H,W,C"`` (or ``HxWxC``) into a validated shape."""
    sep = "," if "," in text else ("x" if "x" in text.lower() else " ")
    parts = [p.strip() for p in text.lower().split(sep)]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"--input-shape must be three integers like 28,28,1 (height,width,channels); "
            f"got {text!r}"
        ) from None
    if len(shape) == 2:
        shape = (*shape, 1)
    return validate_input_shape(shape)
