"""Tiny grayscale previews of images and their text rendering (ASCII shading).

Plain strings only: the CLI prints them, the TUI can put them in a ``Static``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnntui.core.images import ImageReadError, Preprocessing, load_image_uint8, resize

RAMP = " .:-=+*#%@"


def preview_file(path: str | Path, size: tuple[int, int] = (16, 16)) -> np.ndarray | None:
    """uint8 (h, w) grayscale preview of an image file, padded to keep its aspect."""
    pre = Preprocessing(image_size=size, color_mode="grayscale", resize_mode="pad")
    try:
        return load_image_uint8(path, pre)[..., 0]
    except ImageReadError:
        return None


def preview_array(x: np.ndarray, size: tuple[int, int] = (16, 16)) -> np.ndarray:
    """uint8 (h, w) grayscale preview of an image array (H, W[, C])."""
    from PIL import Image

    from cnntui.core.data.arrays import rgb_to_gray

    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 3 and x.shape[-1] >= 3:
        x = rgb_to_gray(x[..., :3])[..., 0]
    elif x.ndim == 3:
        x = x[..., 0]
    return np.asarray(resize(Image.fromarray(x, "L"), size, "pad"))


def shade_lines(pixels: np.ndarray | None, width: int | None = None) -> list[str]:
    """Render a uint8 (h, w) image as text: one character per pixel column and two rows."""
    if pixels is None:
        h, w = 8, width or 16
        return ["?" * w] + [" " * w] * (h - 1)
    p = pixels.astype(np.float32)
    if p.shape[0] % 2:
        p = np.vstack([p, p[-1:]])
    p = (p[0::2] + p[1::2]) / 2.0
    lo, hi = float(p.min()), float(p.max())
    norm = (p - lo) / (hi - lo) if hi > lo else np.zeros_like(p)
    idx = np.clip((norm * (len(RAMP) - 1)).round().astype(int), 0, len(RAMP) - 1)
    return ["".join(RAMP[i] for i in row) for row in idx]
