"""Test-time augmentation: average a model's predictions over simple views of each image.

``flip``: the image and its left-right mirror (airbench's and timm's cheapest TTA). The
probabilities of the views are averaged, so the result is still a distribution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TTA_MODES = ("none", "flip")
NOTE = {"flip": "test-time augmentation: mean of each image's and its mirror's predictions"}


def check_tta(mode: str | None) -> str | None:
    """``None`` for no TTA, else the mode; ValueError for an unknown one."""
    if mode is None or str(mode).lower() == "none":
        return None
    low = str(mode).lower()
    if low not in TTA_MODES:
        raise ValueError(f"--tta must be one of {', '.join(TTA_MODES)}; got {mode!r}")
    return low


def views(x: np.ndarray, mode: str | None) -> list[np.ndarray]:
    """The batches to predict for ``mode`` (NHWC)."""
    if mode == "flip":
        return [x, np.ascontiguousarray(x[:, :, ::-1])]
    return [x]


def with_tta(
    predict: Callable[[np.ndarray], np.ndarray], mode: str | None
) -> Callable[[np.ndarray], np.ndarray]:
    """``predict`` averaged over the views of ``mode`` (``predict`` itself for none)."""
    mode = check_tta(mode)
    if mode is None:
        return predict

    def averaged(x: np.ndarray) -> np.ndarray:
        return np.mean([predict(v) for v in views(x, mode)], axis=0)

    return averaged
