"""In-memory image arrays (the sample, Keras datasets, ``.npz``) brought to a ``Preprocessing``.

Resizing and colour conversion go through :mod:`cnntui.core.images` (Pillow), so an array
image and the same picture saved as a file and predicted on become the same model input.
"""

from __future__ import annotations

import numpy as np

from cnntui.core.data.contract import LABEL_MODES
from cnntui.core.data.errors import DataError
from cnntui.core.images import Preprocessing, resize, to_color_mode


def as_uint8_images(x: np.ndarray, name: str) -> np.ndarray:
    """Validate ``x`` as images (N, H, W[, C]) and return uint8 (N, H, W, C), C in 1, 3, 4."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise DataError(
            f"{name}: images must have shape (N, H, W) or (N, H, W, C) with C = 1, 3 or 4; "
            f"got {tuple(x.shape)}"
        )
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        top = float(np.nanmax(x)) if x.size else 0.0
        factor = 255.0 if top <= 1.0 + 1e-6 else 1.0
        return np.clip(np.round(np.nan_to_num(x) * factor), 0, 255).astype(np.uint8)
    if np.issubdtype(x.dtype, np.integer):
        top = int(x.max()) if x.size else 0
        if top > 255:
            return (
                (x.astype(np.float64) / (65535.0 if top > 4095 else 4095.0) * 255)
                .round()
                .astype(np.uint8)
            )
        return x.astype(np.uint8)
    raise DataError(f"{name}: images must be numbers; got dtype {x.dtype}")


def rgb_to_gray(x: np.ndarray) -> np.ndarray:
    """uint8 (..., 3) → (..., 1) with Pillow's exact integer ``convert("L")`` formula."""
    r, g, b = (x[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)[..., None]


def prepare_arrays(x: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """uint8 (N, H, W, C) → uint8 (N, h, w, c) per ``pre`` (not yet scaled)."""
    h, w = pre.image_size
    c = x.shape[-1]
    if tuple(x.shape[1:3]) == (h, w) and c != 4:
        if c == pre.channels:
            return x
        if c == 1:
            return np.repeat(x, 3, axis=-1)
        return rgb_to_gray(x)
    from PIL import Image

    out = np.empty((len(x), h, w, pre.channels), dtype=np.uint8)
    for i, img in enumerate(x):
        pil = Image.fromarray(img[..., 0] if c == 1 else img, {1: "L", 3: "RGB", 4: "RGBA"}[c])
        arr = np.asarray(resize(to_color_mode(pil, pre.color_mode), (h, w), pre.resize_mode))
        out[i] = arr[..., None] if arr.ndim == 2 else arr
    return out


def encode_labels(y: np.ndarray, label_mode: str, num_classes: int) -> np.ndarray:
    """Integer labels → int32 (N,), float32 (N, 1) or one-hot float32 (N, K)."""
    if label_mode not in LABEL_MODES:
        raise DataError(f"label mode must be one of {LABEL_MODES}; got {label_mode!r}")
    y = np.asarray(y).astype(np.int32).reshape(-1)
    if label_mode == "int":
        return y
    if label_mode == "binary":
        if num_classes != 2:
            raise DataError(
                f"binary labels need exactly 2 classes; this data has {num_classes}. "
                "Use a softmax model or --label-mode categorical"
            )
        return y.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[y]


def split_indices(n: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffle of ``range(n)`` cut into (train, val) by ``val_split``."""
    if not 0.0 <= val_split < 1.0:
        raise DataError(f"validation split must be in [0, 1); got {val_split}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_split))
    return order[n_val:], order[:n_val]


def limit_indices(n: int, limit: int | None, seed: int) -> np.ndarray:
    """Sorted seeded choice of at most ``limit`` of ``range(n)`` (all when no limit)."""
    if not limit or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:limit])
