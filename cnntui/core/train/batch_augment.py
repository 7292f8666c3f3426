"""Batch-level augmentation for training: MixUp, CutMix, RandAugment, random erasing.

Keras's own layers (``keras.layers.MixUp``, ``CutMix``, ``RandAugment``,
``RandomErasing``) run on each training batch inside the ``tf.data`` pipeline (TensorFlow),
or through ``keras.ops`` in the PyDataset's worker threads (any backend), never at
validation or prediction time. MixUp and CutMix need one-hot labels; with both, each
batch gets one of the two at random (timm's ``switch_prob`` 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchAugment:
    """What to do to each training batch (0 / None: off)."""

    mixup: float = 0.0  # alpha
    cutmix: float = 0.0  # alpha
    randaugment: tuple[int, int] | None = None  # (N ops, magnitude M of 0-10)
    random_erasing: float = 0.0  # probability per image

    @property
    def active(self) -> bool:
        return bool(self.mixup or self.cutmix or self.randaugment or self.random_erasing)

    @property
    def soft_labels(self) -> bool:
        return bool(self.mixup or self.cutmix)


def parse_randaugment(text: str | None) -> tuple[int, int] | None:
    """``"2,9"`` → (2, 9): N operations per image at magnitude M (0–10, as in timm)."""
    if text is None or str(text).strip().lower() in ("", "none", "off", "0"):
        return None
    parts = [p.strip() for p in str(text).split(",")]
    try:
        n, m = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (int(parts[0]), 9)
    except ValueError:
        raise ValueError(
            f"--randaugment takes N,M (operations, magnitude 0-10), e.g. 2,9; got {text!r}"
        ) from None
    if n < 1 or not 0 <= m <= 10:
        raise ValueError(f"--randaugment N must be 1 or more and M in 0-10; got {text!r}")
    return n, m


def apply(dataset, spec: BatchAugment, num_classes: int, seed: int = 0):
    """Map ``spec`` over a batched ``(x, y)`` dataset of images in [0, 1] (a ``tf.data``
    dataset, or a PyDataset of :mod:`cnntui.core.data.py_pipeline` on any backend).

    ``y`` must be one-hot when MixUp or CutMix is on.
    """
    if dataset is None or not spec.active:
        return dataset
    from cnntui.core.data.py_pipeline import is_python_dataset

    per_image, mixers = _layers(spec, seed)
    if is_python_dataset(dataset):
        return dataset.map(_batch_function(per_image, mixers, seed))
    import tensorflow as tf

    def augment(x, y):
        for layer in per_image:
            x = _keep_channels(layer, x, tf)
        if not mixers:
            return x, y
        if len(mixers) == 1:
            out = mixers[0]({"images": x, "labels": y}, training=True)
            return out["images"], out["labels"]
        pick = tf.random.uniform(()) < 0.5
        a = lambda: tuple(_mix(mixers[0], x, y))  # noqa: E731
        b = lambda: tuple(_mix(mixers[1], x, y))  # noqa: E731
        return tf.cond(pick, a, b)

    return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)


def _layers(spec: BatchAugment, seed: int) -> tuple[list[Any], list[Any]]:
    """The Keras layers of ``spec``: per-image ones, then the batch mixers."""
    from keras import layers

    per_image: list[Any] = []
    if spec.randaugment:
        n, m = spec.randaugment
        per_image.append(
            layers.RandAugment(value_range=(0.0, 1.0), num_ops=n, factor=m / 10.0, seed=seed)
        )
    if spec.random_erasing:
        per_image.append(
            layers.RandomErasing(factor=spec.random_erasing, value_range=(0.0, 1.0), seed=seed + 1)
        )
    mixers = []
    if spec.mixup:
        mixers.append(layers.MixUp(alpha=spec.mixup, seed=seed + 2))
    if spec.cutmix:
        mixers.append(layers.CutMix(factor=spec.cutmix, seed=seed + 3))
    return per_image, mixers


def _batch_function(per_image: list[Any], mixers: list[Any], seed: int):
    """The same augmentation as a function of a numpy batch, through ``keras.ops`` on the
    active backend (the PyDataset calls it one batch at a time)."""
    import numpy as np
    from keras import ops

    pick = np.random.default_rng(seed + 4)

    def augment(x, y):
        for layer in per_image:
            if x.shape[-1] == 1:  # colour operations want RGB, as in _keep_channels
                rgb = ops.repeat(ops.convert_to_tensor(x), 3, axis=-1)
                x = ops.image.rgb_to_grayscale(layer(rgb, training=True))
            else:
                x = layer(x, training=True)
        if not mixers:
            return x, y
        mixer = mixers[0] if len(mixers) == 1 or pick.random() < 0.5 else mixers[1]
        return _mix(mixer, x, y)

    return augment


def _mix(layer, x, y):
    out = layer({"images": x, "labels": y}, training=True)
    return out["images"], out["labels"]


def _keep_channels(layer, x, tf):
    """Colour operations want RGB: run grayscale batches through them as three channels."""
    if x.shape[-1] == 1:
        rgb = tf.image.grayscale_to_rgb(x)
        return tf.image.rgb_to_grayscale(layer(rgb, training=True))
    return layer(x, training=True)
