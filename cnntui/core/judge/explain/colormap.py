"""Perceptual colour maps in numpy, heatmap overlays and the legend strip.

``viridis`` and ``inferno`` are matplotlib's (Stéfan van der Walt and Nathaniel Smith,
CC0), sampled at 33 points and interpolated linearly (within 2/255 of the originals), so
no plotting library is needed.
"""

from __future__ import annotations

import numpy as np

_INFERNO = [
    (0, 0, 4), (4, 3, 18), (11, 7, 36), (21, 11, 55), (33, 12, 74), (47, 10, 91),
    (61, 9, 101), (74, 12, 107), (87, 16, 110), (100, 21, 110), (113, 25, 110),
    (125, 30, 109), (138, 34, 106), (151, 39, 102), (163, 44, 97), (176, 49, 91),
    (188, 55, 84), (198, 61, 77), (208, 69, 69), (218, 78, 60), (227, 89, 51),
    (235, 100, 41), (241, 113, 31), (246, 126, 20), (249, 140, 10), (251, 155, 6),
    (252, 170, 15), (251, 186, 31), (249, 201, 50), (245, 217, 73), (242, 232, 101),
    (243, 245, 134), (252, 255, 164),
]  # fmt: skip
_VIRIDIS = [
    (68, 1, 84), (71, 13, 96), (72, 24, 106), (72, 35, 116), (71, 45, 123), (69, 55, 129),
    (66, 64, 134), (62, 73, 137), (59, 82, 139), (55, 91, 141), (51, 99, 141),
    (47, 107, 142), (44, 114, 142), (41, 122, 142), (38, 130, 142), (35, 137, 142),
    (33, 145, 140), (31, 151, 139), (31, 159, 136), (33, 166, 133), (39, 173, 129),
    (49, 181, 123), (61, 188, 116), (76, 194, 108), (92, 200, 99), (110, 206, 88),
    (129, 211, 77), (149, 216, 64), (170, 220, 50), (192, 223, 37), (213, 226, 26),
    (234, 229, 26), (253, 231, 37),
]  # fmt: skip
CMAPS = {"inferno": _INFERNO, "viridis": _VIRIDIS}
DEFAULT_CMAP = "inferno"
DEFAULT_ALPHA = 0.55


def _table(name: str) -> np.ndarray:
    if name not in CMAPS:
        raise ValueError(f"colour map must be one of {', '.join(CMAPS)}; got {name!r}")
    anchors = np.asarray(CMAPS[name], dtype=np.float64)
    pos = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, pos, anchors[:, k]) for k in range(3)], axis=1)


def colorize(values: np.ndarray, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """Values in [0, 1] (any shape) as uint8 RGB (shape + (3,))."""
    idx = np.clip(np.rint(np.nan_to_num(values) * 255), 0, 255).astype(np.int64)
    return np.rint(_table(cmap)[idx]).astype(np.uint8)


def normalise(raw: np.ndarray, signed: bool = False) -> np.ndarray:
    """A raw map scaled to [0, 1] by its maximum (for signed maps, only the positive
    evidence is shown); an all-zero map stays zero."""
    m = np.nan_to_num(np.asarray(raw, dtype=np.float64))
    m = np.maximum(m, 0.0) if signed else np.abs(m)
    top = float(m.max(initial=0.0))
    return (m / top if top > 0 else m).astype(np.float32)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) pixels as (H, W, 3)."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    return np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., :3]


def overlay(
    image: np.ndarray, heat: np.ndarray, alpha: float = DEFAULT_ALPHA, cmap: str = DEFAULT_CMAP
) -> np.ndarray:
    """The heatmap (H, W) in [0, 1] blended over uint8 ``image``: weight ``alpha`` where
    the map is high, fading out where it is low so the image stays readable."""
    base = to_rgb(image).astype(np.float64)
    heat = np.clip(np.asarray(heat, dtype=np.float64), 0.0, 1.0)
    color = colorize(heat, cmap).astype(np.float64)
    a = (alpha * (0.35 + 0.65 * heat))[..., None]
    return np.clip(base * (1 - a) + color * a, 0, 255).astype(np.uint8)


def legend_strip(width: int, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """A (2, width, 3) uint8 strip from low to high, for drawing as one text line."""
    row = colorize(np.linspace(0.0, 1.0, max(2, width)), cmap)
    return np.stack([row, row])
