"""The :class:`DataBundle` contract and ``load_data``, the one entry point for data.

Contract (used by training, evaluation, prediction and the TUI):

- ``train`` / ``val`` / ``test``: batched ``tf.data.Dataset`` of ``(x, y)``, x float32
  (N, H, W, C) already scaled to [0, 1]; y encoded per ``label_mode``
  (``int`` → int32 (N,), ``binary`` → float32 (N, 1), ``categorical`` → float32 (N, K)).
  ``val``/``test`` may be ``None``. Augmentation, if any, is applied to ``train`` only.
- ``counts``: images per split; ``class_names``: list of str;
  ``preprocessing``: :class:`cnntui.core.images.Preprocessing`;
- ``skipped``: list of ``{"path", "reason"}`` for files left out by the check pass.
- ``to_config()``: what ``config.json`` stores under ``"data"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.images import Preprocessing

SAMPLE_NAME = "sample"
LABEL_MODES = ("int", "binary", "categorical")


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

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.preprocessing.input_shape

    def to_config(self) -> dict[str, Any]:
        return {
            "source": self.source,
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


def resolve_source(source: str | None) -> str:
    """Normalise a ``--data`` value; ``None`` or ``""`` means the bundled sample."""
    return SAMPLE_NAME if not source else str(source)


def _encode_labels(y: np.ndarray, label_mode: str, num_classes: int) -> np.ndarray:
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label mode must be one of {LABEL_MODES}; got {label_mode!r}")
    y = y.astype(np.int32).reshape(-1)
    if label_mode == "int":
        return y
    if label_mode == "binary":
        if num_classes != 2:
            raise ValueError(
                f"binary labels need exactly 2 classes; this data has {num_classes}"
            )
        return y.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[y]


def _split(n: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"validation split must be in [0, 1); got {val_split}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_split))
    return order[n_val:], order[:n_val]


def _arrays_to_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _resize_arrays(x: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """uint8 (N,H,W[,C]) → float32 (N,h,w,c) in model scale, matching ``pre``."""
    if x.ndim == 3:
        x = x[..., None]
    c = pre.channels
    if x.shape[-1] == 1 and c == 3:
        x = np.repeat(x, 3, axis=-1)
    elif x.shape[-1] == 3 and c == 1:
        x = np.round(x @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)[..., None]
    if tuple(x.shape[1:3]) != tuple(pre.image_size):
        import tensorflow as tf

        x = tf.image.resize(x, pre.image_size, method="bilinear").numpy()
    return x.astype(np.float32) * np.float32(pre.scale)


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
) -> DataBundle:
    """A bundle from in-memory arrays, shuffled and split by ``val_split`` and ``seed``."""
    if len(x) != len(y):
        raise ValueError(f"{source}: x has {len(x)} images but y has {len(y)} labels")
    if limit:
        keep = np.random.default_rng(seed).permutation(len(x))[:limit]
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    native = (*x.shape[1:3], 1 if x.ndim == 3 else x.shape[-1])
    pre = Preprocessing.for_input_shape(tuple(input_shape or native))
    train_idx, val_idx = _split(len(x), val_split, seed)
    k = len(class_names)
    xs = _resize_arrays(x, pre)
    ys = _encode_labels(np.asarray(y), label_mode, k)
    train = _arrays_to_dataset(xs[train_idx], ys[train_idx], batch_size, True, seed)
    val = _arrays_to_dataset(xs[val_idx], ys[val_idx], batch_size, False, seed) if len(val_idx) else None
    counts = {"train": len(train_idx), "val": len(val_idx)}
    test = None
    if x_test is not None and y_test is not None:
        test = _arrays_to_dataset(
            _resize_arrays(x_test, pre), _encode_labels(np.asarray(y_test), label_mode, k),
            batch_size, False, seed,
        )
        counts["test"] = len(x_test)
    return DataBundle(
        source=source, class_names=class_names, preprocessing=pre, label_mode=label_mode,
        batch_size=batch_size, train=train, val=val, test=test, counts=counts,
        val_split=val_split, seed=seed,
    )


def load_data(
    source: str | None = None,
    *,
    input_shape: tuple[int, int, int] | None = None,
    label_mode: str = "int",
    batch_size: int = 32,
    val_split: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    augment: list[str] | None = None,
) -> DataBundle:
    """Load ``source`` (``sample`` by default) as batched pipelines. Imports TensorFlow."""
    source = resolve_source(source)
    if source == SAMPLE_NAME:
        with np.load(sample_path()) as d:
            x, y = d["x"], d["y"]
        return load_arrays(
            source, x, y, [str(i) for i in range(10)], input_shape=input_shape,
            label_mode=label_mode, batch_size=batch_size, val_split=val_split, seed=seed,
            limit=limit,
        )
    raise ValueError(f"unknown data source {source!r}")
