"""The data contract shared by every loader: :class:`DataOptions` in, :class:`DataBundle` out.

A leaf module (it imports only ``errors`` and ``images``), so array loading, folder loading
and inspection all build on it without importing one another.

Bundle contract (used by training, evaluation, prediction and the TUI):

- ``train`` / ``val`` / ``test``: batched ``tf.data.Dataset`` of ``(x, y)``, x float32
  (N, H, W, C) already scaled to [0, 1]; y encoded per ``label_mode``
  (``int`` → int32 (N,), ``binary`` → float32 (N, 1), ``categorical`` → float32 (N, K)).
  ``val``/``test`` may be ``None``. Augmentation, if any, is applied to ``train`` only.
- ``counts``: images per split; ``class_names``: list of str;
  ``preprocessing``: :class:`cnntui.core.images.Preprocessing`;
- ``skipped``: list of ``{"path", "reason"}`` for files left out: by the structural pass
  before training, then by the first epoch's decode (the same list object grows; see
  :meth:`DataBundle.new_skips` for the ones found since the last call);
- ``check``: for folders, the inspection report of the structural pass (``inspect.py``);
  ``warnings``: lines worth showing (imbalance, empty class folders, …);
- ``cache``: for folders, what the decoded-image cache did (``cache.describe``), or None;
- ``ids``: for the fixed-order splits (``val``, ``test``), one identifier per example in
  dataset order: the file path for folders, ``source[i]`` (index into the source's arrays)
  otherwise; evaluation reports use them to name images;
- ``to_config()``: what ``config.json`` stores under ``"data"``, including ``options``
  (:meth:`DataOptions.to_dict`), which :meth:`DataOptions.from_config` reads back.

Folder pipelines drop unreadable files instead of raising, so their cardinality is
unknown to TensorFlow: use ``counts`` for steps per epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from cnntui.core.data.errors import DataError
from cnntui.core.images import COLOR_MODES, RESIZE_MODES, Preprocessing

LABEL_MODES = ("int", "binary", "categorical")
RESCALES = {"unit": 1.0 / 255.0, "none": 1.0}
"""Pixel scaling: ``unit`` divides by 255 (inputs in [0, 1]), ``none`` keeps raw 0-255."""


@dataclass(frozen=True)
class DataOptions:
    """How a source becomes pipelines: recorded with every run and read back as it is."""

    input_shape: tuple[int, int, int] | None = None
    label_mode: str = "int"
    batch_size: int = 32
    val_split: float = 0.1
    seed: int = 0
    limit: int | None = None
    augment: tuple[str, ...] | str | None = None
    resize_mode: str = "stretch"
    color_mode: str | None = None
    cache_budget_bytes: int | None = None
    rescale: str = "unit"
    pipeline: str = "auto"  # auto, tf.data or python (see cnntui.core.data.py_pipeline)

    def __post_init__(self) -> None:
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        if isinstance(self.augment, list):
            object.__setattr__(self, "augment", tuple(self.augment))
        if self.batch_size < 1:
            raise DataError(f"batch size must be at least 1; got {self.batch_size}")
        if self.label_mode not in LABEL_MODES:
            raise DataError(f"label mode must be one of {LABEL_MODES}; got {self.label_mode!r}")
        check_rescale(self.rescale)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> DataOptions:
        """``DataOptions(**kwargs)`` with a clear error naming unknown options."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"unknown data option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**kwargs)

    def with_(self, **changes: Any) -> DataOptions:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.input_shape is not None:
            d["input_shape"] = list(self.input_shape)
        if isinstance(self.augment, tuple):
            d["augment"] = list(self.augment)
        return d

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DataOptions:
        """The options of a run's ``config.json``: its ``data.options`` when recorded, else
        rebuilt from the keys older runs wrote (``data.*``, ``input_shape``, ``limit``)."""
        d = config.get("data") if isinstance(config.get("data"), dict) else {}
        if isinstance(d.get("options"), dict):
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in d["options"].items() if k in known})
        hp = config.get("hyperparameters") or {}
        rec = d.get("preprocessing") if isinstance(d.get("preprocessing"), dict) else {}
        shape = config.get("input_shape")
        return cls(
            input_shape=tuple(shape) if shape else None,
            label_mode=d.get("label_mode", "int"),
            batch_size=int(d.get("batch_size") or 64),
            val_split=float(d["val_split"]) if d.get("val_split") is not None else 0.1,
            seed=int(d.get("seed", config.get("seed", 0)) or 0),
            limit=d.get("limit") or hp.get("limit") or config.get("limit"),
            resize_mode=rec.get("resize_mode") or "stretch",
            color_mode=rec.get("color_mode") or None,
        )


def check_rescale(rescale: str) -> str:
    """``rescale`` if it names a pixel scaling; else :class:`DataError` listing them."""
    if rescale not in RESCALES:
        raise DataError(f"--rescale must be {' or '.join(RESCALES)}; got {rescale!r}")
    return rescale


def resolve_preprocessing(
    input_shape: Sequence[int] | None,
    native_size: Sequence[int],
    native_color: str,
    resize_mode: str,
    color_mode: str | None,
    rescale: str = "unit",
) -> Preprocessing:
    """The :class:`Preprocessing` for a model input (or, without one, the data's own size and
    colour) scaled per ``rescale``; raise :class:`DataError` for an unknown mode or a
    colour/shape mismatch."""
    return replace(
        _sized(input_shape, native_size, native_color, resize_mode, color_mode),
        scale=RESCALES[check_rescale(rescale)],
    )


def _sized(
    input_shape: Sequence[int] | None,
    native_size: Sequence[int],
    native_color: str,
    resize_mode: str,
    color_mode: str | None,
) -> Preprocessing:
    if resize_mode not in RESIZE_MODES:
        raise DataError(f"resize mode must be one of {RESIZE_MODES}; got {resize_mode!r}")
    if color_mode is not None and color_mode not in COLOR_MODES:
        raise DataError(f"color mode must be one of {COLOR_MODES}; got {color_mode!r}")
    if input_shape is not None:
        shape = tuple(int(v) for v in input_shape)
        if len(shape) != 3 or shape[-1] not in (1, 3):
            raise DataError(f"input shape must be (height, width, 1 or 3); got {shape}")
        pre = Preprocessing.for_input_shape(shape, resize_mode=resize_mode)
        if color_mode is not None and color_mode != pre.color_mode:
            raise DataError(
                f"color mode {color_mode!r} does not match the model input {shape} "
                f"({pre.channels} channel{'s' if pre.channels > 1 else ''})"
            )
        return pre
    return Preprocessing(
        image_size=(int(native_size[0]), int(native_size[1])),
        color_mode=color_mode or native_color,
        resize_mode=resize_mode,
    )


@dataclass
class DataBundle:
    """Batched pipelines plus the facts a run records about its data."""

    source: str
    class_names: list[str]
    preprocessing: Preprocessing
    label_mode: str
    batch_size: int
    train: Any
    val: Any = None
    test: Any = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    augment: list[str] = field(default_factory=list)
    val_split: float | None = None
    seed: int = 0
    kind: str = ""
    layout: str = ""
    cached: bool = False
    check: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    ids: dict[str, list[str]] = field(default_factory=dict)  # val/test: one id per example
    options: DataOptions = field(default_factory=DataOptions)
    cache: dict[str, Any] | None = None
    store: Any = field(default=None, repr=False)  # folders: the DecodedStore behind the splits
    pipeline: str = "tf.data"  # or "python" (keras.utils.PyDataset threads; any backend)
    _reported: int = 0

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.preprocessing.input_shape

    def new_skips(self) -> list[dict[str, str]]:
        """Files skipped since the last call (the first call: all so far); for the training
        session to announce per epoch and append to ``skipped.txt``."""
        out = self.skipped[self._reported :]
        self._reported = len(self.skipped)
        return list(out)

    def to_config(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "layout": self.layout,
            "class_names": list(self.class_names),
            "num_classes": self.num_classes,
            "preprocessing": self.preprocessing.to_dict(),
            "label_mode": self.label_mode,
            "batch_size": self.batch_size,
            "counts": dict(self.counts),
            "skipped": len(self.skipped),
            "augment": list(self.augment),
            "val_split": self.val_split,
            "seed": self.seed,
            "options": self.options.with_(label_mode=self.label_mode).to_dict(),
            "cache": dict(self.cache) if self.cache else None,
            "pipeline": self.pipeline,
        }
