"""The :class:`DataBundle` contract and ``load_data``, the one entry point for data.

Contract (used by training, evaluation, prediction and the TUI):

- ``train`` / ``val`` / ``test``: batched ``tf.data.Dataset`` of ``(x, y)``, x float32
  (N, H, W, C) already scaled to [0, 1]; y encoded per ``label_mode``
  (``int`` → int32 (N,), ``binary`` → float32 (N, 1), ``categorical`` → float32 (N, K)).
  ``val``/``test`` may be ``None``. Augmentation, if any, is applied to ``train`` only.
- ``counts``: images per split; ``class_names``: list of str;
  ``preprocessing``: :class:`cnntui.core.images.Preprocessing`;
- ``skipped``: list of ``{"path", "reason"}`` for files left out by the check pass (and,
  should a file change while training, by the pipeline: the same list object grows);
- ``check``: for folders, the inspection report of the check pass (see ``inspect.py``);
  ``warnings``: lines worth showing (imbalance, empty class folders, …);
- ``ids``: for the fixed-order splits (``val``, ``test``), one identifier per example in
  dataset order: the file path for folders, ``source[i]`` (index into the source's arrays)
  otherwise; evaluation reports use them to name images;
- ``to_config()``: what ``config.json`` stores under ``"data"``.

Folder pipelines drop unreadable files instead of raising, so their cardinality is
unknown to TensorFlow: use ``counts`` for steps per epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.arrays import (
    as_uint8_images,
    encode_labels,
    limit_indices,
    prepare_arrays,
    split_indices,
)
from cnntui.core.data.augment import build_augmenter, describe, parse_augment
from cnntui.core.data.errors import DataError
from cnntui.core.data.sources import SAMPLE_NAME, Source, classify_source, resolve_source
from cnntui.core.images import COLOR_MODES, RESIZE_MODES, Preprocessing

LABEL_MODES = ("int", "binary", "categorical")

__all__ = [
    "SAMPLE_NAME",
    "DataBundle",
    "load_arrays",
    "load_data",
    "read_arrays",
    "resolve_source",
    "sample_path",
]


def sample_path() -> Path:
    """The bundled real MNIST digits (5,000, sorted by label)."""
    return Path(str(resources.files("cnntui") / "assets" / "mnist_5k.npz"))


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

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.preprocessing.input_shape

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
        }


def _preprocessing(
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


def read_arrays(src: Source) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    """Raw arrays of an in-memory source: ({"train": (x, y)[, "test": …]}, class_names)."""
    if src.kind == "sample":
        with np.load(sample_path()) as d:
            return {"train": (d["x"], d["y"])}, [str(i) for i in range(10)]
    if src.kind == "keras":
        from cnntui.core.data.keras_datasets import load_keras_dataset

        x, y, xt, yt, names = load_keras_dataset(src.name)
        return {"train": (x, y), "test": (xt, yt)}, names
    if src.kind == "npz":
        return _read_npz(src.path)
    raise DataError(f"{src.name} is not an array source")


def _read_npz(path: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    try:
        with np.load(path, allow_pickle=False) as d:
            arrays = {k: d[k] for k in d.files}
    except Exception as exc:  # noqa: BLE001 - a broken npz is a user's file problem
        raise DataError(f"{path}: cannot read as .npz ({exc})") from None
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DataError(
            f"{path}: missing array {' and '.join(missing)}; an .npz source needs x (images) "
            f"and y (integer labels), optionally x_test/y_test; it has "
            f"{', '.join(arrays) or 'none'}"
        )
    out = {"train": (arrays["x"], arrays["y"])}
    if "x_test" in arrays and "y_test" in arrays:
        out["test"] = (arrays["x_test"], arrays["y_test"])
    for split, (x, y) in out.items():
        y = np.asarray(y).reshape(-1)
        if len(x) != len(y):
            raise DataError(f"{path}: {split} has {len(x)} images but {len(y)} labels")
        if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
            raise DataError(f"{path}: labels must be integers 0..K-1; got dtype {y.dtype}")
        out[split] = (x, y)
    k = 1 + max(int(y.max()) for _, y in out.values() if len(y))
    if "class_names" in arrays:
        names = [str(n) for n in arrays["class_names"].reshape(-1)]
        if len(names) < k:
            raise DataError(f"{path}: labels go up to {k - 1} but class_names has {len(names)}")
    else:
        names = [str(i) for i in range(k)]
    if len(names) < 2:
        raise DataError(f"{path}: only one class; a classifier needs at least two")
    return out, names


def load_arrays(
    source: str,
    x: np.ndarray,
    y: np.ndarray,
    class_names: list[str],
    *,
    input_shape: tuple[int, int, int] | None = None,
    label_mode: str = "int",
    batch_size: int = 32,
    val_split: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    augment: Sequence[str] | str | None = None,
    resize_mode: str = "stretch",
    color_mode: str | None = None,
    kind: str = "arrays",
) -> DataBundle:
    """A bundle from in-memory arrays, shuffled and split by ``val_split`` and ``seed``."""
    from cnntui.core.data.pipeline import array_dataset

    if label_mode not in LABEL_MODES:
        raise DataError(f"label mode must be one of {LABEL_MODES}; got {label_mode!r}")
    y = np.asarray(y).reshape(-1)
    if len(x) != len(y):
        raise DataError(f"{source}: x has {len(x)} images but y has {len(y)} labels")
    x = as_uint8_images(x, source)
    keep = limit_indices(len(x), limit, seed)
    x, y = x[keep], y[keep]
    native_color = "grayscale" if x.shape[-1] == 1 else "rgb"
    pre = _preprocessing(input_shape, x.shape[1:3], native_color, resize_mode, color_mode)
    spec = parse_augment(augment)
    train_idx, val_idx = split_indices(len(x), val_split, seed)
    k = len(class_names)
    xs = prepare_arrays(x, pre)
    ys = encode_labels(y, label_mode, k)
    augmenter = build_augmenter(spec, seed) if spec else None
    train = array_dataset(
        xs,
        ys[train_idx],
        pre,
        batch_size,
        shuffle=True,
        seed=seed,
        augmenter=augmenter,
        rows=train_idx,
    )
    val = None
    if len(val_idx):
        val = array_dataset(
            xs, ys[val_idx], pre, batch_size, shuffle=False, seed=seed, rows=val_idx
        )
    counts = {"train": int(len(train_idx)), "val": int(len(val_idx))}
    test = None
    if x_test is not None and y_test is not None:
        xt = as_uint8_images(x_test, f"{source} (test)")
        yt = np.asarray(y_test).reshape(-1)
        tkeep = limit_indices(len(xt), limit and max(1, limit // 5), seed)
        xt, yt = xt[tkeep], yt[tkeep]
        test = array_dataset(
            prepare_arrays(xt, pre), encode_labels(yt, label_mode, k), pre, batch_size,
            shuffle=False, seed=seed,
        )  # fmt: skip
        counts["test"] = int(len(xt))
    ids = {"val": [f"{source}[{int(keep[i])}]" for i in val_idx]}
    if test is not None:
        ids["test"] = [f"{source}:test[{int(i)}]" for i in tkeep]
    return DataBundle(
        source=source, class_names=list(class_names), preprocessing=pre, label_mode=label_mode,
        batch_size=batch_size, train=train, val=val, test=test, counts=counts,
        augment=describe(spec), val_split=val_split, seed=seed, kind=kind, layout="arrays",
        ids=ids,
    )  # fmt: skip


def load_data(
    source: str | None = None,
    *,
    input_shape: tuple[int, int, int] | None = None,
    label_mode: str = "int",
    batch_size: int = 32,
    val_split: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    augment: Sequence[str] | str | None = None,
    resize_mode: str = "stretch",
    color_mode: str | None = None,
    cache_budget_bytes: int | None = None,
    on_skip: Callable[[str, str], Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DataBundle:
    """Load ``source`` (``sample`` by default) as batched pipelines. Imports TensorFlow.

    ``input_shape`` (the model's input) sets size and colour; without it arrays keep their
    own shape and folders take the inspection's suggestion. ``resize_mode``: stretch, crop
    or pad. ``augment``: names from :mod:`cnntui.core.data.augment`. Folders only:
    ``cache_budget_bytes`` caps the decoded pixels kept in memory (default: a quarter of
    available memory, at most 4 GiB), ``on_skip(path, reason)`` hears of every skipped file,
    ``on_progress(done, total)`` follows the check pass. Raises :class:`DataError`
    (a ``ValueError``) for a source that cannot be used, before any decoding work.
    """
    if batch_size < 1:
        raise DataError(f"batch size must be at least 1; got {batch_size}")
    src = classify_source(source)
    if src.kind == "folder":
        from cnntui.core.data.folder_bundle import load_folder

        return load_folder(
            src.path, input_shape=input_shape, label_mode=label_mode, batch_size=batch_size,
            val_split=val_split, seed=seed, limit=limit, augment=augment,
            resize_mode=resize_mode, color_mode=color_mode,
            cache_budget_bytes=cache_budget_bytes, on_skip=on_skip, on_progress=on_progress,
        )  # fmt: skip
    splits, names = read_arrays(src)
    x, y = splits["train"]
    xt, yt = splits.get("test", (None, None))
    return load_arrays(
        src.name if src.kind != "npz" else str(src.path), x, y, names, input_shape=input_shape,
        label_mode=label_mode, batch_size=batch_size, val_split=val_split, seed=seed,
        limit=limit, x_test=xt, y_test=yt, augment=augment, resize_mode=resize_mode,
        color_mode=color_mode, kind=src.kind,
    )  # fmt: skip
